import { describe, expect, it } from 'vitest'
import { ApiError, OPERATION_NAMES } from '../../src/shared/contract'
import { channelFor, isIpcErrorEnvelope, reviveIpcError, toIpcError } from '../../src/shared/ipc'

describe('IPC naming and error shapes', () => {
  it('gives every operation its own channel', () => {
    const channels = OPERATION_NAMES.map(channelFor)
    expect(new Set(channels).size).toBe(OPERATION_NAMES.length)
    expect(channelFor('events.list')).toBe('switchboard:op:events.list')
  })

  it('serializes an ApiError with code, message and details, and revives it on the other side', () => {
    const error = new ApiError('bad_request', 'name: Too small', {
      issues: [{ path: 'name', message: 'Too small' }],
    })
    const wire = structuredClone(toIpcError(error))
    expect(wire).toEqual({ code: 'bad_request', message: 'name: Too small', details: error.details })
    const revived = reviveIpcError(wire)
    expect(revived).toBeInstanceOf(ApiError)
    expect(revived).toMatchObject({ code: 'bad_request', message: 'name: Too small', details: error.details })
    expect(revived.status).toBe(400)
  })

  it('turns unexpected errors into internal ones carrying only the message', () => {
    const wire = toIpcError(Object.assign(new TypeError('boom'), { secretField: 'x' }))
    expect(wire).toEqual({ code: 'internal', message: 'boom' })
    expect(toIpcError('plain')).toEqual({ code: 'internal', message: 'plain' })
  })

  it('revives unknown codes and odd rejections as internal', () => {
    expect(reviveIpcError({ code: '__proto__', message: 'x' }).code).toBe('internal')
    expect(reviveIpcError({ code: 'toString', message: 'x' }).code).toBe('internal')
    expect(reviveIpcError(new Error('gone')).message).toBe('gone')
    expect(reviveIpcError(undefined).code).toBe('internal')
  })

  it('recognizes error envelopes only', () => {
    expect(isIpcErrorEnvelope({ error: { code: 'not_found', message: 'x' } })).toBe(true)
    expect(isIpcErrorEnvelope({ result: { error: 'not an envelope' } })).toBe(false)
    expect(isIpcErrorEnvelope({ error: 'x' })).toBe(false)
    expect(isIpcErrorEnvelope(null)).toBe(false)
  })
})
