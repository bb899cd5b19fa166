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
  const text = parts.join(' — ') || scalars(Array.isArray(json) ? json[0] : json) || type || ''
  return text.length > max ? text.slice(0, max - 1) + '…' : text
}

/** Fallback: the first two scalar top-level fields as `key: value`, skipping the type itself. */
function scalars(node: unknown): string {
  if (!node || typeof node !== 'object') return ''
  const out: string[] = []
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === 'type' || key === 'event' || value === null || typeof value === 'object') continue
    out.push(`${key}: ${String(value)}`)
    if (out.length === 2) break
  }
  return out.join(', ')
}
