import { randomUUID } from 'node:crypto'
import type { Webhook } from 'standardwebhooks'
import type { LoadRequest } from '../test/support/load'

/** One JSON webhook to `path`, signed as Standard Webhooks senders sign it, with a fresh delivery id. */
export function signedRequest(signer: Webhook, path: string, text: string): LoadRequest {
  const id = `msg_${randomUUID()}`
  // One instant for the header and the signature: two clock reads can straddle a second.
  const at = new Date()
  return {
    path,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signer.sign(id, at, text),
    },
    body: text,
  }
}
