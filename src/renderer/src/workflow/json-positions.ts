/**
 * A JSON parser that remembers where each value sits in the text, so the workflow editor can show a schema
 * or server error on the line it is about, and a syntax error with its line and column.
 */

export type JsonPath = Array<string | number>

export interface JsonSyntaxError {
  message: string
  offset: number
  line: number
  column: number
}

export type JsonParse =
  { ok: true; value: unknown; positions: Map<string, number> } | { ok: false; error: JsonSyntaxError }

/** `steps.0.url` for `['steps', 0, 'url']`; the root is ''. Server issues use the same dotted form. */
export function pathKey(path: JsonPath | string): string {
  return typeof path === 'string' ? path : path.join('.')
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let start = 0
  const end = Math.min(offset, text.length)
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      start = i + 1
    }
  }
  return { line, column: end - start + 1 }
}

/**
 * Where to point for a path: the member's key (or the element) when it exists, else its nearest existing
 * ancestor (a missing required field points at the object that lacks it).
 */
export function locate(positions: Map<string, number>, path: JsonPath | string): number {
  const parts = typeof path === 'string' ? (path ? path.split('.') : []) : path.map(String)
  for (let n = parts.length; n >= 0; n--) {
    const at = positions.get(parts.slice(0, n).join('.'))
    if (at !== undefined) return at
  }
  return 0
}

class SyntaxFailure extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
// Control characters (U+0000–U+001F) may not appear raw inside a JSON string.
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y

export function parseJsonWithPositions(text: string): JsonParse {
  const positions = new Map<string, number>()
  let i = 0

  const fail = (message: string, at = i): never => {
    throw new SyntaxFailure(message, at)
  }
  const skip = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 32 || c === 9 || c === 10 || c === 13) i++
      else break
    }
  }
  const describe = (at: number) => (at >= text.length ? 'the end of the text' : `'${text[at]}'`)

  function readString(): string {
    STRING.lastIndex = i
    const m = STRING.exec(text)
    if (!m) {
      const close = text.indexOf('"', i + 1)
      fail(close < 0 ? 'Unterminated string' : 'Bad character or escape in string')
    }
    i += m![0].length
    return JSON.parse(m![0]) as string
  }

  function readValue(path: string): unknown {
    skip()
    if (!positions.has(path)) positions.set(path, i)
    const c = text[i]
    if (c === '{') return readObject(path)
    if (c === '[') return readArray(path)
    if (c === '"') return readString()
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i
      const m = NUMBER.exec(text)
      if (!m) fail('Bad number')
      i += m![0].length
      return Number(m![0])
    }
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length
        return value
      }
    }
    if (c === "'") return fail('Strings need double quotes')
    return fail(`Expected a value but found ${describe(i)}`)
  }

  function readObject(path: string): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    i++
    skip()
    if (text[i] === '}') {
      i++
      return out
    }
    for (;;) {
      skip()
      if (text[i] !== '"') {
        fail(
          text[i] === '}'
            ? 'Trailing comma before }'
            : `Expected a property name in double quotes but found ${describe(i)}`,
        )
      }
      const keyAt = i
      const key = readString()
      const child = path ? `${path}.${key}` : key
      positions.set(child, keyAt)
      skip()
      if (text[i] !== ':') fail(`Expected ':' after property name but found ${describe(i)}`)
      i++
      out[key] = readValue(child)
      skip()
      if (text[i] === ',') {
        i++
        continue
      }
      if (text[i] === '}') {
        i++
        return out
      }
      fail(`Expected ',' or '}' after a property value but found ${describe(i)}`)
    }
  }

  function readArray(path: string): unknown[] {
    const out: unknown[] = []
    i++
    skip()
    if (text[i] === ']') {
      i++
      return out
    }
    for (;;) {
      skip()
      if (text[i] === ']') fail('Trailing comma before ]')
      out.push(readValue(path ? `${path}.${out.length}` : String(out.length)))
      skip()
      if (text[i] === ',') {
        i++
        continue
      }
      if (text[i] === ']') {
        i++
        return out
      }
      fail(`Expected ',' or ']' after an element but found ${describe(i)}`)
    }
  }

  try {
    const value = readValue('')
    skip()
    if (i < text.length) fail(`Unexpected ${describe(i)} after the JSON value`)
    return { ok: true, value, positions }
  } catch (error) {
    if (!(error instanceof SyntaxFailure)) throw error
    const { line, column } = lineColumn(text, error.offset)
    return { ok: false, error: { message: error.message, offset: error.offset, line, column } }
  }
}
