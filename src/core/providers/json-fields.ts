/** Reading fields out of parsed JSON bodies without trusting their shape. */

/** The value at `path` (object keys or array indexes), or undefined when any step is missing. */
export function fieldAt(json: unknown, ...path: Array<string | number>): unknown {
  let node = json
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Record<string | number, unknown>)[key]
  }
  return node
}

/** The string (or finite number, as text) at `path`, or null. Empty strings count as missing. */
export function textAt(json: unknown, ...path: Array<string | number>): string | null {
  const value = fieldAt(json, ...path)
  if (typeof value === 'string') return value === '' ? null : value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return null
}

/** Parses a raw body as JSON, or undefined when it is not JSON (verify gets bytes, not the parsed body). */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}

/** Joins the present parts with `.`, or null when the first is missing (e.g. `issues` + `opened`). */
export function dotted(first: string | null, ...rest: Array<string | null>): string | null {
  if (first === null) return null
  return [first, ...rest.filter((part): part is string => part !== null)].join('.')
}
