const KEYS = [
  'title',
  'summary',
  'subject',
  'name',
  'message',
  'description',
  'text',
  'action',
  'status',
] as const
const NESTS = [
  'data',
  'object',
  'event',
  'payload',
  'issue',
  'pull_request',
  'resource',
  'record',
  'item',
] as const

/**
 * One readable line for the feed, from the first human-looking field of a JSON body (looking a few levels into
 * common envelopes). Bounded work: at most a handful of objects are inspected.
 */
export function summarize(json: unknown, type: string | null, max = 140): string {
  const parts: string[] = []
  let node: unknown = Array.isArray(json) ? json[0] : json
  for (let depth = 0; depth < 4 && node && typeof node === 'object' && !Array.isArray(node); depth++) {
    const obj = node as Record<string, unknown>
    for (const key of KEYS) {
      const value = obj[key]
      if (typeof value === 'string' && value.trim() && !parts.includes(value.trim())) {
        parts.push(value.trim())
        break
      }
    }
    if (parts.length >= 2) break
    node = NESTS.map((k) => obj[k]).find((v) => v && typeof v === 'object')
  }
  const text = parts.join(' — ') || type || ''
  return text.length > max ? text.slice(0, max - 1) + '…' : text
}
