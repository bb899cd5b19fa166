import { useEffect, useMemo, useRef, useState } from 'react'
import { useStore } from 'zustand'
import type { OperationResult } from '../../../shared/contract'
import type { WorkflowRecord, WorkflowVersion } from '../../../shared/domain'
import { describeError, issuesOf } from '../api/api-errors'
import { useApp } from '../app-context'
import { formatDateTime } from '../format'
import { lineColumn, locate, parseJsonWithPositions, pathKey } from '../workflow/json-positions'
import { checkAgainstSchema } from '../workflow/schema-check'
import { Step } from './run-timeline'

export interface EditorIssue {
  path: string
  message: string
  line: number
  column: number
  offset: number
  origin: 'syntax' | 'schema' | 'server'
}

/**
 * Every problem with the editor's text, each placed on its line: a syntax error, else the schema's issues,
 * plus the server's own validation issues from the last save (shown until the text changes) at the fields the
 * schema did not already flag.
 */
export function editorIssues(
  text: string,
  schema: Record<string, unknown> | null,
  serverIssues: Array<{ path: string; message: string }>,
): { value: unknown; issues: EditorIssue[] } {
  const parsed = parseJsonWithPositions(text)
  if (!parsed.ok) {
    const { message, offset, line, column } = parsed.error
    return { value: undefined, issues: [{ path: '', message, offset, line, column, origin: 'syntax' }] }
  }
  const place = (path: string, message: string, origin: EditorIssue['origin']): EditorIssue => {
    const offset = locate(parsed.positions, path)
    return { path, message, offset, ...lineColumn(text, offset), origin }
  }
  const schemaIssues = (schema ? checkAgainstSchema(schema, parsed.value) : []).map((i) =>
    place(pathKey(i.path), i.message, 'schema'),
  )
  // The server checks the same schema first: where the editor already flags a field, its verdict on that field
  // would say the same thing twice in other words.
  const flagged = new Set(schemaIssues.map((i) => i.path))
  const issues = [
    ...schemaIssues,
    ...serverIssues.filter((i) => !flagged.has(i.path)).map((i) => place(i.path, i.message, 'server')),
  ]
  issues.sort((a, b) => a.offset - b.offset)
  return { value: parsed.value, issues }
}

/** A JSON text area with line numbers, whose gutter marks the lines that have problems. */
function JsonArea({
  id,
  text,
  onChange,
  issues,
  textareaRef,
  label,
}: {
  id: string
  text: string
  onChange: (t: string) => void
  issues: EditorIssue[]
  textareaRef: React.RefObject<HTMLTextAreaElement | null>
  label: string
}) {
  const gutterRef = useRef<HTMLPreElement>(null)
  const lineCount = text.split('\n').length
  const bad = new Map<number, string>()
  for (const i of issues) if (!bad.has(i.line)) bad.set(i.line, i.message)
  return (
    <div className="code-editor">
      <pre className="gutter" ref={gutterRef} aria-hidden="true">
        {Array.from({ length: lineCount }, (_, i) => (
          <span
            key={i}
            className={bad.has(i + 1) ? 'gutter-line gutter-error' : 'gutter-line'}
            title={bad.get(i + 1)}
          >
            {bad.has(i + 1) ? '●' : ''}
            {i + 1}
            {'\n'}
          </span>
        ))}
      </pre>
      <textarea
        id={id}
        ref={textareaRef}
        value={text}
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        aria-label={label}
        aria-invalid={issues.length > 0}
        aria-describedby={`${id}-issues`}
        onChange={(e) => onChange(e.target.value)}
        onScroll={(e) => {
          if (gutterRef.current) gutterRef.current.scrollTop = e.currentTarget.scrollTop
        }}
        onKeyDown={(e) => {
          // Tab indents instead of leaving the editor; Esc then Tab still leaves (keyboard users are not trapped).
          if (
            e.key === 'Tab' &&
            !e.shiftKey &&
            !e.altKey &&
            !e.ctrlKey &&
            !e.metaKey &&
            e.currentTarget.dataset.escaped !== '1'
          ) {
            e.preventDefault()
            const el = e.currentTarget
            const { selectionStart, selectionEnd } = el
            onChange(`${text.slice(0, selectionStart)}  ${text.slice(selectionEnd)}`)
            requestAnimationFrame(() => el.setSelectionRange(selectionStart + 2, selectionStart + 2))
          }
          e.currentTarget.dataset.escaped = e.key === 'Escape' ? '1' : ''
        }}
      />
    </div>
  )
}

function IssueList({
  id,
  issues,
  onJump,
}: {
  id: string
  issues: EditorIssue[]
  onJump: (issue: EditorIssue) => void
}) {
  if (issues.length === 0) {
    return (
      <p id={`${id}-issues`} className="ok-text" role="status">
        No problems found.
      </p>
    )
  }
  return (
    <ul id={`${id}-issues`} className="issues" aria-label="Problems">
      {issues.map((issue, i) => (
        <li key={i} className={`issue issue-${issue.origin}`}>
          <button type="button" className="link" onClick={() => onJump(issue)}>
            Line {issue.line}
            {issue.path && (
              <>
                {' '}
                · <code>{issue.path}</code>
              </>
            )}
          </button>{' '}
          <span>{issue.message}</span>
          {issue.origin === 'server' && <span className="muted"> (from the server)</span>}
        </li>
      ))}
    </ul>
  )
}

function jumpTo(area: HTMLTextAreaElement | null, text: string, offset: number): void {
  if (!area) return
  area.focus()
  area.setSelectionRange(offset, offset)
  const { line } = lineColumn(text, offset)
  const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 18
  area.scrollTop = Math.max(0, (line - 4) * lineHeight)
}

type DryRun = OperationResult<'workflows.test'>

function DryRunPanel({ workflowId, definition }: { workflowId: string | null; definition: unknown }) {
  const { client, feed } = useApp()
  const [sample, setSample] = useState('{\n  \n}')
  const [eventId, setEventId] = useState('')
  const [result, setResult] = useState<DryRun | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [pending, setPending] = useState(false)
  // Select the stable array and slice here: a selector returning a fresh array would re-render forever.
  const ids = useStore(feed.store, (s) => s.ids)
  const events = useStore(feed.store, (s) => s.events)
  const recent = useMemo(() => ids.slice(0, 30), [ids])
  const sampleParse = useMemo(() => parseJsonWithPositions(sample), [sample])
  const id = workflowId ?? (definition as { id?: unknown } | undefined)?.id
  const canRun =
    typeof id === 'string' && id !== '' && definition !== undefined && (eventId || sampleParse.ok)

  async function run() {
    if (!canRun) return
    setPending(true)
    setError(null)
    try {
      const r = await client['workflows.test']({
        id: id as string,
        definition: definition as Record<string, unknown>,
        ...(eventId ? { eventId } : { event: sampleParse.ok ? sampleParse.value : undefined }),
      })
      setResult(r)
    } catch (e) {
      setResult(null)
      setError(describeError(e))
    } finally {
      setPending(false)
    }
  }

  return (
    <section className="dry-run" aria-labelledby="dry-run-title">
      <h3 id="dry-run-title">Dry run</h3>
      <p className="muted">Runs this definition on a sample event. Outgoing calls are recorded, not sent.</p>
      <label>
        Use a stored event
        <select value={eventId} onChange={(e) => setEventId(e.target.value)}>
          <option value="">No — use the sample body below</option>
          {recent.map((eid) => {
            const ev = events.get(eid)
            return (
              <option key={eid} value={eid}>
                {ev ? `${ev.type ?? 'event'} · ${ev.summary}`.slice(0, 80) : eid}
              </option>
            )
          })}
        </select>
      </label>
      {!eventId && (
        <label>
          Sample event body (JSON)
          <textarea
            className="sample"
            value={sample}
            onChange={(e) => setSample(e.target.value)}
            spellCheck={false}
            aria-invalid={!sampleParse.ok}
            rows={6}
          />
          {!sampleParse.ok && (
            <span className="field-error">
              Line {sampleParse.error.line}: {sampleParse.error.message}
            </span>
          )}
        </label>
      )}
      <button type="button" onClick={() => void run()} disabled={!canRun || pending}>
        {pending ? 'Running…' : 'Dry run'}
      </button>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div className="dry-run-result" role="status" aria-label="Dry run result">
          <p>
            {result.matched ? 'The trigger matches this event.' : 'The trigger does not match this event.'}{' '}
            Run <span className={`badge run-${result.run.status}`}>{result.run.status}</span>
            {result.run.error && <span className="error-text"> — {result.run.error}</span>}
          </p>
          <h4>Outgoing calls it would make ({result.calls.length})</h4>
          {result.calls.length === 0 ? (
            <p className="empty">None.</p>
          ) : (
            <ol className="calls">
              {result.calls.map((c, i) => (
                <li key={i}>
                  <strong>{c.stepId}</strong>: <code>{c.method}</code> <span className="url">{c.url}</span>
                  <details>
                    <summary>Headers and body</summary>
                    <pre>
                      {Object.entries(c.headers)
                        .map(([k, v]) => `${k}: ${v}`)
                        .join('\n')}
                      {c.body !== undefined && c.body !== null
                        ? `\n\n${typeof c.body === 'string' ? c.body : JSON.stringify(c.body, null, 2)}`
                        : ''}
                    </pre>
                  </details>
                </li>
              ))}
            </ol>
          )}
          {result.run.steps.length > 0 && (
            <>
              <h4>Steps</h4>
              <ol className="timeline">
                {result.run.steps.map((s) => (
                  <Step key={s.stepId} step={s} />
                ))}
              </ol>
            </>
          )}
        </div>
      )}
    </section>
  )
}

function newTemplate(sourceId: string | undefined): string {
  return JSON.stringify(
    {
      id: 'my-workflow',
      name: 'My workflow',
      enabled: true,
      trigger: { source: sourceId ?? 'my-source', types: ['*'] },
      steps: [{ id: 'tell', kind: 'notify', title: 'A webhook arrived' }],
    },
    null,
    2,
  )
}

let schemaCache: Promise<Record<string, unknown>> | null = null

/** Edit one workflow (or a new one) as JSON, checked as you type; save, dry-run, and browse its versions. */
export function WorkflowEditor({ workflowId }: { workflowId: string | null }) {
  const { client, catalog, router, system } = useApp()
  const firstSource = useStore(catalog.store, (s) => s.sources[0]?.id)
  const [record, setRecord] = useState<WorkflowRecord | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [text, setText] = useState(() => (workflowId ? '' : newTemplate(firstSource)))
  const [schema, setSchema] = useState<Record<string, unknown> | null>(null)
  const [schemaError, setSchemaError] = useState<string | null>(null)
  const [serverIssues, setServerIssues] = useState<Array<{ path: string; message: string }>>([])
  const [saveError, setSaveError] = useState<string | null>(null)
  const [saving, setSaving] = useState(false)
  const [versions, setVersions] = useState<WorkflowVersion[] | null>(null)
  const areaRef = useRef<HTMLTextAreaElement>(null)

  useEffect(() => {
    schemaCache ??= client['workflows.schema']({})
    schemaCache.then(setSchema, (e) => {
      schemaCache = null
      setSchemaError(describeError(e))
    })
  }, [client])

  useEffect(() => {
    if (!workflowId) return
    let live = true
    setLoadError(null)
    client['workflows.get']({ id: workflowId }).then(
      (r) => {
        if (!live) return
        setRecord(r)
        setText(JSON.stringify(r.definition, null, 2))
      },
      (e) => live && setLoadError(describeError(e)),
    )
    client['workflows.versions']({ id: workflowId }).then(
      (v) => live && setVersions(v.items),
      () => live && setVersions([]),
    )
    return () => {
      live = false
    }
  }, [client, workflowId])

  const { value, issues } = useMemo(
    () => editorIssues(text, schema, serverIssues),
    [text, schema, serverIssues],
  )
  const syntaxBroken = issues.some((i) => i.origin === 'syntax')

  function edit(next: string) {
    setText(next)
    if (serverIssues.length) setServerIssues([])
    setSaveError(null)
  }

  async function save() {
    if (syntaxBroken) {
      jumpTo(areaRef.current, text, issues[0]!.offset)
      return
    }
    setSaving(true)
    setSaveError(null)
    try {
      const definition = value as Record<string, unknown>
      const saved = workflowId
        ? await client['workflows.put']({ ...definition, id: workflowId })
        : await client['workflows.create'](definition)
      setRecord(saved)
      setServerIssues([])
      catalog.putWorkflow(saved)
      system.report('ok', `Workflow ${saved.name} saved as version ${saved.version}`)
      if (!workflowId) router.go({ view: 'workflows', id: saved.id })
      else
        client['workflows.versions']({ id: saved.id }).then(
          (v) => setVersions(v.items),
          () => {},
        )
    } catch (e) {
      const found = issuesOf(e)
      setServerIssues(found)
      setSaveError(describeError(e))
      system.report('error', `Not saved: ${describeError(e)}`)
    } finally {
      setSaving(false)
    }
  }

  if (workflowId && loadError) {
    return (
      <div role="alert" className="state-box">
        <p>
          Could not load workflow {workflowId}: {loadError}
        </p>
      </div>
    )
  }
  if (workflowId && !record) return <p role="status">Loading workflow…</p>

  return (
    <div className="editor-layout">
      <section className="editor" aria-labelledby="editor-title">
        <div className="page-head">
          <h2 id="editor-title">{record ? `${record.name} (v${record.version})` : 'New workflow'}</h2>
          <span className="spacer" />
          <button type="button" className="primary" onClick={() => void save()} disabled={saving}>
            {saving ? 'Saving…' : workflowId ? 'Save new version' : 'Create workflow'}
          </button>
        </div>
        {schemaError && (
          <p className="muted">Schema unavailable ({schemaError}); the server still checks on save.</p>
        )}
        <JsonArea
          id="workflow-json"
          text={text}
          onChange={edit}
          issues={issues}
          textareaRef={areaRef}
          label="Workflow definition (JSON)"
        />
        {saveError && serverIssues.length === 0 && (
          <p className="error-text" role="alert">
            {saveError}
          </p>
        )}
        <IssueList
          id="workflow-json"
          issues={issues}
          onJump={(i) => jumpTo(areaRef.current, text, i.offset)}
        />
      </section>
      <div className="editor-side">
        <DryRunPanel workflowId={workflowId} definition={syntaxBroken ? undefined : value} />
        {workflowId && (
          <section aria-labelledby="versions-title">
            <h3 id="versions-title">Version history</h3>
            {versions === null ? (
              <p role="status">Loading versions…</p>
            ) : versions.length === 0 ? (
              <p className="empty">No versions recorded.</p>
            ) : (
              <ol className="versions" reversed>
                {[...versions]
                  .sort((a, b) => b.version - a.version)
                  .map((v) => (
                    <li key={v.version}>
                      v{v.version} · {formatDateTime(v.createdAt)}
                      {record?.version === v.version && <span className="badge">current</span>}{' '}
                      <button
                        type="button"
                        className="small"
                        onClick={() => edit(JSON.stringify(v.definition, null, 2))}
                        aria-label={`Load version ${v.version} into the editor`}
                      >
                        Load
                      </button>
                    </li>
                  ))}
              </ol>
            )}
          </section>
        )}
      </div>
    </div>
  )
}
