import { describe, expect, it } from 'vitest'
import { redactCredentialHeaders } from '../../../src/core/secrets/vault'

describe('credential headers of a recorded request', () => {
  it('keep an Authorization scheme, and nothing of any other credential', () => {
    expect(
      redactCredentialHeaders({
        Authorization: 'Bearer tok_live_123',
        'proxy-authorization': 'opaque',
        Cookie: 'session=abc123; theme=dark',
        'X-Api-Key': 'key 123',
        'x-hook-secret': 'asana-secret',
        'content-type': 'application/json',
      }),
    ).toEqual({
      Authorization: 'Bearer [redacted]',
      'proxy-authorization': '[redacted]',
      Cookie: '[redacted]',
      'X-Api-Key': '[redacted]',
      'x-hook-secret': '[redacted]',
      'content-type': 'application/json',
    })
  })
})
