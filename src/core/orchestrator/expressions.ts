import jsonata from 'jsonata'
import { templateExpressions } from '../../shared/workflow'

/** Default time limit for one expression evaluation. */
export const EXPRESSION_TIMEOUT_MS = 1000
const MAX_CACHED = 1000
const WHOLE_TEMPLATE = /^\s*\{\{([\s\S]*?)\}\}\s*$/

/** An expression failed (syntax, runtime error or time limit); the message names the expression. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message)
    this.name = 'ExpressionError'
  }
}

const compiled = new Map<string, jsonata.Expression>()

function compile(expression: string, timeoutMs: number): jsonata.Expression {
  const key = `${timeoutMs}\u0000${expression}`
  let expr = compiled.get(key)
  if (!expr) {
    try {
      expr = jsonata(expression, { timeout: timeoutMs, stack: 500 })
    } catch (error) {
      throw new ExpressionError(
        `invalid expression ${JSON.stringify(expression)}: ${describe(error)}`,
        expression,
      )
    }
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value!)
    compiled.set(key, expr)
  }
  return expr
}

function describe(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { message?: string; code?: string; value?: unknown }
    if (e.code === 'D1012') return `time limit of ${String(e.value)} ms exceeded`
    if (e.code === 'D1011') return 'expression nests too deeply'
    return e.message || e.code || String(error)
  }
  return String(error)
}

/** Plain JSON: JSONata sequences become arrays, functions disappear. */
function plain(value: unknown): unknown {
  if (value === undefined) return undefined
  try {
    return JSON.parse(JSON.stringify(value)) as unknown
  } catch {
    return undefined
  }
}

/** Evaluate a JSONata expression against `input` with a time limit. */
export async function evaluate(
  expression: string,
  input: unknown,
  timeoutMs = EXPRESSION_TIMEOUT_MS,
): Promise<unknown> {
  const expr = compile(expression, timeoutMs)
  try {
    return plain(await expr.evaluate(input))
  } catch (error) {
    throw new ExpressionError(
      `expression ${JSON.stringify(expression)} failed: ${describe(error)}`,
      expression,
    )
  }
}

/** JSONata truthiness, as `$boolean()` has it. */
export function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false
  if (Array.isArray(value)) return value.some(truthy)
  if (typeof value === 'object') return Object.keys(value).length > 0
  return true
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return ''
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/**
 * Render `{{ … }}` templates in a value: strings at every depth of objects and arrays. A string that is exactly
 * one template keeps the expression's value (a number stays a number); otherwise results are interpolated.
 */
export async function render(
  value: unknown,
  input: unknown,
  timeoutMs = EXPRESSION_TIMEOUT_MS,
): Promise<unknown> {
  if (typeof value === 'string') {
    if (!value.includes('{{')) return value
    const whole = WHOLE_TEMPLATE.exec(value)
    if (whole && templateExpressions(value).length === 1) return evaluate(whole[1]!.trim(), input, timeoutMs)
    let out = ''
    let last = 0
    for (const match of value.matchAll(/\{\{([\s\S]*?)\}\}/g)) {
      out += value.slice(last, match.index)
      out += stringify(await evaluate(match[1]!.trim(), input, timeoutMs))
      last = match.index + match[0].length
    }
    return out + value.slice(last)
  }
  if (Array.isArray(value)) {
    const out: unknown[] = []
    for (const item of value) out.push(await render(item, input, timeoutMs))
    return out
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = await render(item, input, timeoutMs)
    return out
  }
  return value
}

/** Render a template to a string (URLs, header values, titles). */
export async function renderText(
  value: string,
  input: unknown,
  timeoutMs = EXPRESSION_TIMEOUT_MS,
): Promise<string> {
  return stringify(await render(value, input, timeoutMs))
}

/**
 * The root an expression sees: the named values (`event`, `headers`, `source`, `steps`, `secrets`, `run`, …)
 * and, for convenience, the top-level fields of the event body (so a trigger can say `$count(items) > 0`).
 * Named values win over body fields of the same name.
 */
export function expressionInput(body: unknown, named: Record<string, unknown>): Record<string, unknown> {
  const fields =
    body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {}
  return { ...fields, ...named }
}
