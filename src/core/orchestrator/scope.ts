import { expressionInput } from './expressions'
import type { RunRow } from './run-store'
import type { LoadedEvent } from './types'

/** The event an expression is about: the run's trigger event, or, for a wait's `match`, the candidate answer. */
export interface ScopeEvent {
  /** The parsed body (JSON, or form fields), or undefined. */
  json: unknown
  headers: Record<string, string>
  sourceId: string
  type: string | null
  path: string
}

/** The run an expression belongs to (`run` in the scope). */
export interface ScopeRun {
  id: string
  eventId: string
  workflowId: string
  workflowVersion: number
  /** The trigger event's parsed body, or null when it is gone. */
  event: unknown
  /** Where a third party can answer the run's wait, when it has one. */
  callbackUrl: string | null
}

/**
 * What every expression sees — a trigger's `when`, a wait's `match` and a step's `{{ … }}` templates — built in
 * one place so that the same name means the same thing everywhere: the event's top-level fields, then `event`
 * and its alias `body` (the parsed body), `headers`, `source`, `type`, `path`, `steps.<id>` (each finished
 * step's output), `secrets`, and `run` (null in a trigger's `when`, before any run exists). `event` is null
 * when the run's trigger event is gone.
 */
export function expressionScope(
  event: ScopeEvent | null,
  context: { steps: Record<string, unknown>; secrets: Record<string, string>; run: ScopeRun | null },
  fallbackSource: string | null = null,
): Record<string, unknown> {
  const json = event?.json ?? null
  return expressionInput(event?.json, {
    event: json,
    body: json,
    headers: event?.headers ?? {},
    source: event?.sourceId ?? fallbackSource,
    type: event?.type ?? null,
    path: event?.path ?? null,
    steps: context.steps,
    secrets: context.secrets,
    run: context.run,
  })
}

export function scopeEvent(event: LoadedEvent): ScopeEvent {
  return {
    json: event.json,
    headers: event.headers,
    sourceId: event.summary.sourceId,
    type: event.summary.type,
    path: event.path,
  }
}

export function scopeRun(
  run: RunRow,
  triggerEvent: LoadedEvent | null,
  callbackUrl: string | null,
): ScopeRun {
  return {
    id: run.id,
    eventId: run.event_id,
    workflowId: run.workflow_id,
    workflowVersion: run.workflow_version,
    event: triggerEvent?.json ?? null,
    callbackUrl,
  }
}
