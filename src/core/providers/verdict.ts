import type { VerifyResult } from './types'

/** The request is authentic. */
export const accepted: VerifyResult = { ok: true }

/** The request is not authentic; `reason` is shown in the feed next to the rejected event. */
export function rejected(reason: string): VerifyResult {
  return { ok: false, reason }
}
