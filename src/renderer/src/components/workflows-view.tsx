import { useRef } from 'react'
import { useStore } from 'zustand'
import type { WorkflowSummary } from '../../../shared/domain'
import { useApp } from '../app-context'
import { formatAgo } from '../format'
import { parseWorkflowFile, saveFile, workflowFileName, workflowFileText } from '../workflow-files'
import { useAction } from './use-action'
import { WorkflowEditor } from './workflow-editor'

function WorkflowItem({ workflow, selected }: { workflow: WorkflowSummary; selected: boolean }) {
  const { client, catalog, router } = useApp()
  const toggle = useAction(
    () => client['workflows.setEnabled']({ id: workflow.id, enabled: !workflow.enabled }),
    (w) => `Workflow ${w.name} ${w.enabled ? 'enabled' : 'disabled'}`,
  )
  const remove = useAction(
    () => client['workflows.delete']({ id: workflow.id }),
    () => `Workflow ${workflow.name} deleted`,
  )
  const exportFile = useAction(
    async () => {
      const record = await client['workflows.get']({ id: workflow.id })
      saveFile(workflowFileName(record.id), workflowFileText(record.definition))
      return record
    },
    (record) => `Exported ${workflowFileName(record.id)} (version ${record.version})`,
  )
  return (
    <li className={selected ? 'selected' : undefined} data-workflow-id={workflow.id}>
      <a
        href={`#/workflows/${encodeURIComponent(workflow.id)}`}
        aria-current={selected ? 'page' : undefined}
        onClick={(e) => {
          e.preventDefault()
          router.go({ view: 'workflows', id: workflow.id })
        }}
      >
        <strong>{workflow.name}</strong>
        <span className="muted">
          {' '}
          v{workflow.version} · {workflow.trigger.source}
          {workflow.trigger.types?.length ? ` · ${workflow.trigger.types.join(', ')}` : ''} ·{' '}
          {formatAgo(workflow.updatedAt)}
        </span>
      </a>
      <label className="switch">
        <input
          type="checkbox"
          checked={workflow.enabled}
          disabled={toggle.pending}
          aria-label={`${workflow.name} enabled`}
          onChange={async () => {
            const w = await toggle.run()
            if (w) catalog.putWorkflow(w)
          }}
        />{' '}
        On
      </label>
      <button
        type="button"
        className="small"
        aria-label={`Export workflow ${workflow.name} as JSON`}
        disabled={exportFile.pending}
        onClick={() => void exportFile.run()}
      >
        Export
      </button>
      <button
        type="button"
        className="small danger"
        aria-label={`Delete workflow ${workflow.name}`}
        disabled={remove.pending}
        onClick={async () => {
          if (!window.confirm(`Delete workflow ${workflow.name}? Runs already started keep their version.`))
            return
          if (await remove.run()) {
            catalog.removeWorkflow(workflow.id)
            if (selected) router.go({ view: 'workflows', id: null })
          }
        }}
      >
        Delete
      </button>
    </li>
  )
}

/** The workflows, and the editor for the one in the route (`new` for a fresh one). */
export function WorkflowsView() {
  const { catalog, router } = useApp()
  const workflows = useStore(catalog.store, (s) => s.workflows)
  const phase = useStore(catalog.store, (s) => s.phase)
  const routeId = useStore(router.store, (s) => s.id)
  const editing = routeId === 'new' ? null : routeId
  const fileInput = useRef<HTMLInputElement>(null)
  const { client } = useApp()
  // An imported file with the id of an existing workflow becomes its next version; otherwise a new workflow.
  const importFile = useAction(
    async (file: File) => {
      const definition = parseWorkflowFile(await file.text())
      const exists = catalog.store.getState().workflows.some((w) => w.id === definition.id)
      return exists ? client['workflows.put'](definition) : client['workflows.create'](definition)
    },
    (record, file) => `Imported ${file.name} as ${record.name} (version ${record.version})`,
  )
  return (
    <div className="workflows">
      <section className="workflow-list" aria-labelledby="workflows-title">
        <div className="page-head">
          <h1 id="workflows-title">Workflows</h1>
          <button
            type="button"
            className="primary"
            onClick={() => router.go({ view: 'workflows', id: 'new' })}
          >
            New
          </button>
          <button type="button" disabled={importFile.pending} onClick={() => fileInput.current?.click()}>
            Import…
          </button>
          <input
            ref={fileInput}
            type="file"
            accept="application/json,.json"
            aria-label="Import a workflow from a JSON file"
            hidden
            onChange={async (e) => {
              const file = e.currentTarget.files?.[0]
              e.currentTarget.value = ''
              if (!file) return
              const record = await importFile.run(file)
              if (record) {
                catalog.putWorkflow(record)
                router.go({ view: 'workflows', id: record.id })
              }
            }}
          />
        </div>
        {phase === 'loading' && <p role="status">Loading workflows…</p>}
        {phase === 'ready' && workflows.length === 0 && (
          <p className="empty">No workflows yet. A workflow says what to do when an event arrives.</p>
        )}
        <ul className="items">
          {workflows.map((w) => (
            <WorkflowItem key={w.id} workflow={w} selected={w.id === routeId} />
          ))}
        </ul>
      </section>
      {routeId ? (
        <WorkflowEditor key={routeId} workflowId={editing} />
      ) : (
        <p className="empty">Choose a workflow to edit, or create a new one.</p>
      )}
    </div>
  )
}
