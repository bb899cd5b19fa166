import { describe, expect, it } from 'vitest'
import { googleCalendar } from '../../../src/core/providers/google-calendar'
import { context, expectAccepted, expectRejected, fromSample, inbound } from './harness'

const notification = (token: string | undefined, state = 'exists', message = '7') =>
  inbound({
    headers: {
      'x-goog-channel-id': '01234567-89ab-cdef-0123456789ab',
      ...(token === undefined ? {} : { 'x-goog-channel-token': token }),
      'x-goog-channel-expiration': 'Tue, 19 Nov 2026 01:13:52 GMT',
      'x-goog-message-number': message,
      'x-goog-resource-id': 'ret08u3rv24htgh289g',
      'x-goog-resource-state': state,
      'x-goog-resource-uri': 'https://www.googleapis.com/calendar/v3/calendars/primary/events',
    },
  })

describe('google-calendar preset', () => {
  const byOption = context({ options: { channelToken: 'tok-123' } })

  it('accepts the channel token set as options.channelToken or as the secret', () => {
    expectAccepted(googleCalendar, notification('tok-123'), byOption)
    expectAccepted(googleCalendar, notification('tok-123'), context({ secrets: ['tok-123'] }))
  })

  it('rejects a wrong or missing token, and everything when none is configured', () => {
    expectRejected(googleCalendar, notification('tok-124'), byOption, /does not match/)
    expectRejected(googleCalendar, notification(undefined), byOption, /missing/)
    expectRejected(googleCalendar, notification('tok-123'), context(), /no channel token/)
  })

  it('accepts the previous token during a rotation', () => {
    expectAccepted(googleCalendar, notification('old'), context({ secrets: ['new', 'old'] }))
  })

  it('answers the sync message with a bare 200 when the token is right, and not otherwise', () => {
    expect(googleCalendar.handshake!(notification('tok-123', 'sync', '1'), byOption, undefined)).toEqual({
      status: 200,
    })
    expect(googleCalendar.handshake!(notification('wrong', 'sync', '1'), byOption, undefined)).toBeNull()
    expect(googleCalendar.handshake!(notification('tok-123'), byOption, undefined)).toBeNull()
  })

  it('dedups on channel id + message number and types by resource state', () => {
    const req = notification('tok-123', 'not_exists', '42')
    expect(googleCalendar.dedupId(req, undefined)).toBe('01234567-89ab-cdef-0123456789ab:42')
    expect(googleCalendar.eventType(req, undefined)).toBe('not_exists')
  })

  it('needs the token as an option or a secret to be set up', () => {
    expect(googleCalendar.validateSetup!({}, false)).toMatch(/options\.channelToken/)
    expect(googleCalendar.validateSetup!({ channelToken: 't' }, false)).toBeNull()
    expect(googleCalendar.validateSetup!({}, true)).toBeNull()
  })

  it('builds samples its own verify accepts', () => {
    expectAccepted(googleCalendar, fromSample(googleCalendar, byOption), byOption)
  })
})
