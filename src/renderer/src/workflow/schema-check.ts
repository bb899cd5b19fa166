/**
 * Checks a value against the workflow JSON Schema the server exports (`workflows.schema`), for inline errors
 * while typing. It covers the keywords a zod-generated schema uses; anything else is left to the server,
 * whose validation stays the final word (its errors are shown at their paths too).
 */
import type { JsonPath } from './json-positions'

export interface SchemaIssue {
  path: JsonPath
  message: string
}

type Schema = boolean | { [keyword: string]: unknown }

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

function typeMatches(value: unknown, type: string): boolean {
  const actual = typeOf(value)
  return actual === type || (type === 'number' && actual === 'integer')
}

function show(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value)
}

function resolvePointer(root: Schema, ref: string): Schema | undefined {
  if (ref === '#') return root
  if (!ref.startsWith('#/')) return undefined
  let node: unknown = root
  for (const raw of ref.slice(2).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (!node || typeof node !== 'object') return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node as Schema | undefined
}

/** Validate `value` against `schema`; returns every issue found, each at its path. */
export function checkAgainstSchema(schema: Schema, value: unknown): SchemaIssue[] {
  const root = schema
  const issues: SchemaIssue[] = []

  function check(
    node: Schema | undefined,
    v: unknown,
    path: JsonPath,
    out: SchemaIssue[],
    depth: number,
  ): void {
    if (node === undefined || node === true || depth > 64) return
    if (node === false) {
      out.push({ path, message: 'is not allowed here' })
      return
    }
    const s = node
    if (typeof s.$ref === 'string') check(resolvePointer(root, s.$ref), v, path, out, depth + 1)

    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string]
      if (!types.some((t) => typeMatches(v, t))) {
        out.push({ path, message: `must be ${types.join(' or ')} (is ${typeOf(v)})` })
        return
      }
    }
    if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(v)) {
      out.push({ path, message: `must be ${show(s.const)}` })
    }
    if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
      out.push({ path, message: `must be one of ${s.enum.map(show).join(', ')}` })
    }

    if (typeof v === 'string') {
      if (typeof s.minLength === 'number' && v.length < s.minLength) {
        out.push({
          path,
          message: s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters`,
        })
      }
      if (typeof s.maxLength === 'number' && v.length > s.maxLength) {
        out.push({ path, message: `must be at most ${s.maxLength} characters` })
      }
      if (typeof s.pattern === 'string') {
        let re: RegExp | null
        try {
          re = new RegExp(s.pattern, 'u')
        } catch {
          re = null // a pattern JavaScript cannot compile: the server checks it
        }
        if (re && !re.test(v)) out.push({ path, message: `must match ${s.pattern}` })
      }
    }
    if (typeof v === 'number') {
      if (typeof s.minimum === 'number' && v < s.minimum)
        out.push({ path, message: `must be ≥ ${s.minimum}` })
      if (typeof s.maximum === 'number' && v > s.maximum)
        out.push({ path, message: `must be ≤ ${s.maximum}` })
      if (typeof s.exclusiveMinimum === 'number' && v <= s.exclusiveMinimum) {
        out.push({ path, message: `must be > ${s.exclusiveMinimum}` })
      }
      if (typeof s.exclusiveMaximum === 'number' && v >= s.exclusiveMaximum) {
        out.push({ path, message: `must be < ${s.exclusiveMaximum}` })
      }
    }

    if (Array.isArray(v)) {
      if (typeof s.minItems === 'number' && v.length < s.minItems) {
        out.push({ path, message: `must have at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}` })
      }
      if (typeof s.maxItems === 'number' && v.length > s.maxItems) {
        out.push({ path, message: `must have at most ${s.maxItems} items` })
      }
      const prefix = Array.isArray(s.prefixItems) ? (s.prefixItems as Schema[]) : []
      v.forEach((item, index) => {
        const itemSchema = index < prefix.length ? prefix[index] : (s.items as Schema | undefined)
        check(itemSchema, item, [...path, index], out, depth + 1)
      })
    }

    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const obj = v as Record<string, unknown>
      const props = (s.properties ?? {}) as Record<string, Schema>
      if (Array.isArray(s.required)) {
        for (const key of s.required as string[]) {
          if (!(key in obj)) out.push({ path: [...path, key], message: 'is required' })
        }
      }
      const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, Schema>)
      for (const [key, child] of Object.entries(obj)) {
        if (key in props) {
          check(props[key], child, [...path, key], out, depth + 1)
          continue
        }
        const byPattern = patterns.filter(([p]) => {
          try {
            return new RegExp(p, 'u').test(key)
          } catch {
            return false
          }
        })
        if (byPattern.length) {
          for (const [, ps] of byPattern) check(ps, child, [...path, key], out, depth + 1)
        } else if (s.additionalProperties === false) {
          out.push({
            path: [...path, key],
            message: `is not a known field${Object.keys(props).length ? ` (known: ${Object.keys(props).join(', ')})` : ''}`,
          })
        } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
          check(s.additionalProperties as Schema, child, [...path, key], out, depth + 1)
        }
      }
      if (s.propertyNames && typeof s.propertyNames === 'object') {
        for (const key of Object.keys(obj)) {
          const sub: SchemaIssue[] = []
          check(s.propertyNames as Schema, key, [...path, key], sub, depth + 1)
          if (sub.length) out.push({ path: [...path, key], message: `bad field name: ${sub[0]!.message}` })
        }
      }
    }

    if (Array.isArray(s.allOf)) for (const sub of s.allOf as Schema[]) check(sub, v, path, out, depth + 1)
    for (const keyword of ['anyOf', 'oneOf'] as const) {
      const options = s[keyword]
      if (Array.isArray(options)) checkUnion(options as Schema[], v, path, out, depth)
    }
  }

  /**
   * A value must match one of several shapes. When the shapes are told apart by a constant field (a step's
   * `kind`), report against the shape the value names, or say which names are allowed; otherwise report the
   * closest shape's issues.
   */
  function checkUnion(
    options: Schema[],
    v: unknown,
    path: JsonPath,
    out: SchemaIssue[],
    depth: number,
  ): void {
    const results = options.map((o) => {
      const sub: SchemaIssue[] = []
      check(o, v, path, sub, depth + 1)
      return sub
    })
    if (results.some((r) => r.length === 0)) return
    const discriminator = findDiscriminator(options)
    if (discriminator && v && typeof v === 'object' && !Array.isArray(v)) {
      const tag = (v as Record<string, unknown>)[discriminator.key]
      const at = discriminator.values.findIndex((value) => value === tag)
      if (at >= 0) {
        out.push(...results[at]!)
        return
      }
      out.push({
        path: [...path, discriminator.key],
        message:
          tag === undefined
            ? `is required (one of ${discriminator.values.map(show).join(', ')})`
            : `must be one of ${discriminator.values.map(show).join(', ')}`,
      })
      return
    }
    let best = results[0]!
    for (const r of results)
      if (r.length < best.length || (r.length === best.length && deepest(r) > deepest(best))) best = r
    out.push(...best)
  }

  function deepest(list: SchemaIssue[]): number {
    return Math.max(0, ...list.map((i) => i.path.length))
  }

  function findDiscriminator(options: Schema[]): { key: string; values: unknown[] } | null {
    const resolved = options.map((o) => {
      let node = o
      for (let n = 0; n < 8 && node && typeof node === 'object' && typeof node.$ref === 'string'; n++) {
        node = resolvePointer(root, node.$ref) ?? {}
      }
      return node
    })
    const first = resolved[0]
    if (!first || typeof first !== 'object') return null
    const props = (first.properties ?? {}) as Record<string, Record<string, unknown>>
    for (const key of Object.keys(props)) {
      const values: unknown[] = []
      for (const r of resolved) {
        if (!r || typeof r !== 'object') return null
        const p = ((r.properties ?? {}) as Record<string, Record<string, unknown>>)[key]
        const value =
          p && 'const' in p
            ? p.const
            : p && Array.isArray(p.enum) && p.enum.length === 1
              ? p.enum[0]
              : undefined
        if (value === undefined) {
          values.length = 0
          break
        }
        values.push(value)
      }
      if (values.length === resolved.length && new Set(values).size === values.length) return { key, values }
    }
    return null
  }

  check(schema, value, [], issues, 0)
  // The same problem can be reached through several branches; say it once.
  const seen = new Set<string>()
  return issues.filter((i) => {
    const key = `${i.path.join('.')}\u0000${i.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
