/**
 * The workflow document: what a person writes (or imports as a `.json` file), validated by one zod schema that
 * is also exported as JSON Schema for the editor. Pure: zod and jsonata only.
 *
 * Expressions (`when`, `match`, `value`) and `{{ … }}` templates are JSONata. They all see the same names:
 * `event` (the parsed body; `body` is the same), `headers`, `source`, `type`, `path`, `steps.<id>` (each finished
 * step's output), `secrets` and `run` (`id`, `eventId`, `workflowId`, `workflowVersion`, `event`: the trigger
 * event's body, `callbackUrl`; null in a trigger's `when`). In a wait's `match` the event is the candidate answer.
 */
import jsonata from 'jsonata'
import { z } from 'zod'

/** Step ids are JSONata-friendly names, so `steps.<id>` works in expressions. */
export const STEP_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const DURATION_PATTERN = /^\s*\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)?\s*$/
const TEMPLATE_PATTERN = /\{\{([\s\S]*?)\}\}/g

export const STEP_KINDS = [
  'http',
  'webhook',
  'notify',
  'if',
  'switch',
  'set',
  'delay',
  'waitForEvent',
] as const
export type StepKind = (typeof STEP_KINDS)[number]

export interface RetrySpec {
  /** Total tries, the first included. */
  attempts?: number
  backoff?: 'exponential' | 'fixed'
  initial?: string | number
  max?: string | number
}

interface StepBase {
  id: string
  name?: string
  retry?: RetrySpec
}

export interface HttpStep extends StepBase {
  kind: 'http'
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD'
  url: string
  headers?: Record<string, string>
  /** Sent as JSON when an object or array, as-is when a string. Templates are rendered at every level. */
  body?: unknown
  /** Per-attempt time limit (default 30s). */
  timeout?: string | number
}

export interface WebhookStep extends StepBase {
  kind: 'webhook'
  url: string
  /** Standard Webhooks signing secret (`whsec_…`), usually `{{ secrets.name }}`. */
  secret: string
  headers?: Record<string, string>
  body?: unknown
  timeout?: string | number
}

export interface NotifyStep extends StepBase {
  kind: 'notify'
  title: string
  body?: string
}

export interface IfStep extends StepBase {
  kind: 'if'
  when: string
  then: Step[]
  else?: Step[]
}

export interface SwitchStep extends StepBase {
  kind: 'switch'
  /** Expression whose value picks the case. */
  value: string
  cases: Array<{ equals: unknown; steps: Step[] }>
  default?: Step[]
}

export interface SetStep extends StepBase {
  kind: 'set'
  /** Rendered templates; the step's output is this object. */
  values: Record<string, unknown>
}

export interface DelayStep extends StepBase {
  kind: 'delay'
  duration: string | number
}

export interface WaitForEventStep extends StepBase {
  kind: 'waitForEvent'
  /** Source id the awaited event arrives on. */
  source: string
  /** Event types (`*` globs); any type when absent. */
  types?: string[]
  /**
   * Correlation expression over the incoming event (`event`/`body`, `headers`, `source`) and this run
   * (`run.event`, `steps`). An event sent to the run's own callback URL needs no match.
   */
  match?: string
  timeout: string | number
  /** Steps run when the timeout passes; without them a timeout ends the run as dead. */
  onTimeout?: Step[]
}

export type Step =
  HttpStep | WebhookStep | NotifyStep | IfStep | SwitchStep | SetStep | DelayStep | WaitForEventStep

export interface WorkflowTrigger {
  source: string
  types?: string[]
  when?: string
}

export interface WorkflowDefinition {
  $schema?: string
  id: string
  name: string
  description?: string
  enabled?: boolean
  trigger: WorkflowTrigger
  /** Runs of this workflow executing at once (the rest wait, queued). */
  concurrency?: number
  steps: Step[]
}

const workflowId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must be letters, digits, and _ . : - (not first)')

/** Check JSONata syntax; returns the parser's message or null. */
export function jsonataError(expression: string): string | null {
  try {
    jsonata(expression)
    return null
  } catch (error) {
    const e = error as { message?: string; position?: number }
    return `invalid JSONata: ${e.message ?? String(error)}${e.position !== undefined ? ` (at ${e.position})` : ''}`
  }
}

/** The `{{ … }}` expressions inside a template string. */
export function templateExpressions(text: string): string[] {
  return [...text.matchAll(TEMPLATE_PATTERN)].map((m) => m[1]!.trim())
}

const expression = z
  .string()
  .min(1, 'must be a JSONata expression')
  .max(10_000)
  .superRefine((value, ctx) => {
    const error = jsonataError(value)
    if (error) ctx.addIssue({ code: 'custom', message: error })
  })

function checkTemplates(value: unknown, ctx: z.RefinementCtx, path: PropertyKey[] = []): void {
  if (typeof value === 'string') {
    if (value.includes('{{') && !/\}\}/.test(value.slice(value.indexOf('{{')))) {
      ctx.addIssue({ code: 'custom', message: 'unclosed {{ in template', path })
      return
    }
    for (const expr of templateExpressions(value)) {
      const error = expr ? jsonataError(expr) : 'empty {{ }} in template'
      if (error) ctx.addIssue({ code: 'custom', message: error, path })
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkTemplates(item, ctx, [...path, i]))
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) checkTemplates(item, ctx, [...path, key])
  }
}

const template = z
  .string()
  .max(100_000)
  .superRefine((v, ctx) => checkTemplates(v, ctx))
const templated = z.unknown().superRefine((v, ctx) => checkTemplates(v, ctx))
const duration = z.union([
  z
    .number()
    .int()
    .min(0)
    .max(365 * 86_400_000),
  z.string().regex(DURATION_PATTERN, 'must be a duration like 500ms, 30s, 5m, 2h, 2d'),
])
const typeGlobs = z.array(z.string().min(1).max(200)).max(100)

const retry = z
  .object({
    attempts: z.number().int().min(1).max(100).optional(),
    backoff: z.enum(['exponential', 'fixed']).optional(),
    initial: duration.optional(),
    max: duration.optional(),
  })
  .strict()

const base = {
  id: z.string().regex(STEP_ID_PATTERN, 'must be a name: a letter or _, then letters, digits or _ (max 64)'),
  name: z.string().max(200).optional(),
  retry: retry.optional(),
}

const stepList: z.ZodType<Step[]> = z.lazy(() => z.array(stepSchema).max(500))
const headers = z.record(z.string().min(1).max(200), template)

const httpStep = z
  .object({
    ...base,
    kind: z.literal('http'),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).optional(),
    url: template,
    headers: headers.optional(),
    body: templated.optional(),
    timeout: duration.optional(),
  })
  .strict()

const webhookStep = z
  .object({
    ...base,
    kind: z.literal('webhook'),
    url: template,
    secret: z
      .string()
      .min(1, 'a Standard Webhooks signing secret is required')
      .superRefine((v, ctx) => checkTemplates(v, ctx)),
    headers: headers.optional(),
    body: templated.optional(),
    timeout: duration.optional(),
  })
  .strict()

const notifyStep = z
  .object({ ...base, kind: z.literal('notify'), title: template, body: template.optional() })
  .strict()

const ifStep = z
  .object({ ...base, kind: z.literal('if'), when: expression, then: stepList, else: stepList.optional() })
  .strict()

const switchStep = z
  .object({
    ...base,
    kind: z.literal('switch'),
    value: expression,
    cases: z
      .array(z.object({ equals: z.unknown(), steps: stepList }).strict())
      .min(1)
      .max(100),
    default: stepList.optional(),
  })
  .strict()

const setStep = z
  .object({ ...base, kind: z.literal('set'), values: z.record(z.string(), templated) })
  .strict()

const delayStep = z.object({ ...base, kind: z.literal('delay'), duration }).strict()

const waitForEventStep = z
  .object({
    ...base,
    kind: z.literal('waitForEvent'),
    source: workflowId,
    types: typeGlobs.optional(),
    match: expression.optional(),
    timeout: duration,
    onTimeout: stepList.optional(),
  })
  .strict()

const stepSchema = z.discriminatedUnion(
  'kind',
  [httpStep, webhookStep, notifyStep, ifStep, switchStep, setStep, delayStep, waitForEventStep],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `unknown step kind ${JSON.stringify((issue.input as { kind?: unknown } | undefined)?.kind)} (expected one of ${STEP_KINDS.join(', ')})`
        : undefined,
  },
)

/** The workflow document schema (structure and expression syntax; see `validateWorkflow` for the rest). */
export const workflowSchema = z
  .object({
    $schema: z.string().optional(),
    id: workflowId,
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5000).optional(),
    enabled: z.boolean().optional(),
    trigger: z
      .object({ source: workflowId, types: typeGlobs.optional(), when: expression.optional() })
      .strict(),
    concurrency: z.number().int().min(1).max(1000).optional(),
    steps: stepList.refine((s) => s.length > 0, 'a workflow needs at least one step'),
  })
  .strict()

/** JSON Schema (draft 2020-12) of the workflow document, for editors. */
export function workflowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(workflowSchema, { unrepresentable: 'any' }) as Record<string, unknown>
}

export interface WorkflowIssue {
  path: string
  message: string
}

export type WorkflowValidation =
  { ok: true; workflow: WorkflowDefinition } | { ok: false; issues: WorkflowIssue[] }

/** Every step with its path (`steps.1.then.0`), in document order. */
export function walkSteps(steps: Step[], path = 'steps'): Array<{ step: Step; path: string }> {
  const out: Array<{ step: Step; path: string }> = []
  steps.forEach((step, i) => {
    const here = `${path}.${i}`
    out.push({ step, path: here })
    for (const [key, children] of childLists(step)) out.push(...walkSteps(children, `${here}.${key}`))
  })
  return out
}

/** A step's nested step lists, keyed by their field path. */
export function childLists(step: Step): Array<[string, Step[]]> {
  switch (step.kind) {
    case 'if':
      return [['then', step.then], ...(step.else ? [['else', step.else] as [string, Step[]]] : [])]
    case 'switch':
      return [
        ...step.cases.map((c, i) => [`cases.${i}.steps`, c.steps] as [string, Step[]]),
        ...(step.default ? [['default', step.default] as [string, Step[]]] : []),
      ]
    case 'waitForEvent':
      return step.onTimeout ? [['onTimeout', step.onTimeout]] : []
    default:
      return []
  }
}

/** Names used as `steps.<name>` (or `steps["name"]`) in an expression. */
function referencedSteps(expression: string): string[] {
  const names = new Set<string>()
  for (const m of expression.matchAll(/(?:^|[^A-Za-z0-9_$.])steps\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)/g))
    names.add(m[1]!)
  for (const m of expression.matchAll(/(?:^|[^A-Za-z0-9_$.])steps\s*\[\s*["']([^"']+)["']\s*\]/g))
    names.add(m[1]!)
  return [...names]
}

/** Every expression in a step (own fields only), with its field path relative to the step. */
function stepExpressions(step: Step): Array<{ field: string; expression: string }> {
  const out: Array<{ field: string; expression: string }> = []
  const templates = (value: unknown, field: string): void => {
    if (typeof value === 'string')
      for (const e of templateExpressions(value)) out.push({ field, expression: e })
    else if (Array.isArray(value)) value.forEach((v, i) => templates(v, `${field}.${i}`))
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) templates(v, `${field}.${k}`)
  }
  switch (step.kind) {
    case 'http':
    case 'webhook':
      templates(step.url, 'url')
      templates(step.headers, 'headers')
      templates(step.body, 'body')
      if (step.kind === 'webhook') templates(step.secret, 'secret')
      break
    case 'notify':
      templates(step.title, 'title')
      templates(step.body, 'body')
      break
    case 'set':
      templates(step.values, 'values')
      break
    case 'if':
      out.push({ field: 'when', expression: step.when })
      break
    case 'switch':
      out.push({ field: 'value', expression: step.value })
      break
    case 'waitForEvent':
      if (step.match) out.push({ field: 'match', expression: step.match })
      break
    case 'delay':
      break
  }
  return out
}

/**
 * Validate a workflow document: structure, JSONata syntax, unique step ids (across all branches) and
 * references (`steps.<id>`) to steps that exist. Each issue's `path` points at the offending field.
 */
export function validateWorkflow(raw: unknown): WorkflowValidation {
  const parsed = workflowSchema.safeParse(raw)
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    }
  }
  const workflow = parsed.data as WorkflowDefinition
  const issues: WorkflowIssue[] = []
  const all = walkSteps(workflow.steps)
  const seen = new Map<string, string>()
  for (const { step, path } of all) {
    const first = seen.get(step.id)
    if (first)
      issues.push({ path: `${path}.id`, message: `duplicate step id "${step.id}" (first used at ${first})` })
    else seen.set(step.id, path)
  }
  const check = (expression: string, path: string): void => {
    for (const name of referencedSteps(expression)) {
      if (!seen.has(name)) issues.push({ path, message: `references unknown step "${name}"` })
    }
  }
  if (workflow.trigger.when) {
    if (referencedSteps(workflow.trigger.when).length)
      issues.push({ path: 'trigger.when', message: 'a trigger cannot reference steps (none has run yet)' })
  }
  for (const { step, path } of all) {
    for (const { field, expression } of stepExpressions(step)) check(expression, `${path}.${field}`)
  }
  return issues.length ? { ok: false, issues } : { ok: true, workflow }
}

/** Whether `type` matches a glob where `*` stands for any run of characters. */
export function typeMatches(globs: string[] | undefined, type: string | null): boolean {
  if (!globs || globs.length === 0) return true
  if (type === null) return false
  return globs.some((glob) => {
    const pattern = glob
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')
    return new RegExp(`^${pattern}$`).test(type)
  })
}
