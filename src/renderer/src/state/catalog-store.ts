/**
 * Sources and workflows as the UI lists them, loaded once and kept current by `source`, `workflow` and their
 * `-deleted` changes. Small collections, so plain immutable arrays.
 */
import { createStore } from 'zustand/vanilla'
import type { ApiClient, Change } from '../../../shared/contract'
import type { ProviderPreset, Source, WorkflowSummary } from '../../../shared/domain'
import { describeError } from '../api/api-errors'

export interface CatalogState {
  sources: Source[]
  workflows: WorkflowSummary[]
  presets: ProviderPreset[]
  phase: 'idle' | 'loading' | 'ready' | 'error'
  error: string | null
}

function upsert<T extends { id: string }>(list: T[], item: T): T[] {
  const at = list.findIndex((x) => x.id === item.id)
  if (at < 0) return [...list, item]
  return list.map((x, i) => (i === at ? item : x))
}

export type CatalogStore = ReturnType<typeof createCatalogStore>

export function createCatalogStore(
  client: Pick<ApiClient, 'sources.list' | 'workflows.list' | 'providers.list'>,
) {
  const store = createStore<CatalogState>(() => ({
    sources: [],
    workflows: [],
    presets: [],
    phase: 'idle',
    error: null,
  }))

  async function load(): Promise<void> {
    store.setState({ phase: 'loading', error: null })
    try {
      const [sources, workflows, presets] = await Promise.all([
        client['sources.list']({}),
        client['workflows.list']({}),
        client['providers.list']({}),
      ])
      store.setState({
        sources: sources.items,
        workflows: workflows.items,
        presets: presets.items,
        phase: 'ready',
      })
    } catch (error) {
      store.setState({ phase: 'error', error: describeError(error) })
    }
  }

  function applyChanges(changes: readonly Change[]): void {
    let { sources, workflows } = store.getState()
    const before = { sources, workflows }
    for (const change of changes) {
      if (change.type === 'source') sources = upsert(sources, change.source)
      else if (change.type === 'source-deleted') sources = sources.filter((s) => s.id !== change.id)
      else if (change.type === 'workflow') workflows = upsert(workflows, change.workflow)
      else if (change.type === 'workflow-deleted') workflows = workflows.filter((w) => w.id !== change.id)
    }
    if (sources !== before.sources || workflows !== before.workflows) store.setState({ sources, workflows })
  }

  /** Put a source or workflow the UI just created or changed (the change stream may lag the answer). */
  function putSource(source: Source): void {
    store.setState({ sources: upsert(store.getState().sources, source) })
  }
  function removeSource(id: string): void {
    store.setState({ sources: store.getState().sources.filter((s) => s.id !== id) })
  }
  function putWorkflow(workflow: WorkflowSummary): void {
    const { id, name, enabled, version, trigger, updatedAt } = workflow
    store.setState({
      workflows: upsert(store.getState().workflows, { id, name, enabled, version, trigger, updatedAt }),
    })
  }
  function removeWorkflow(id: string): void {
    store.setState({ workflows: store.getState().workflows.filter((w) => w.id !== id) })
  }

  return { store, load, applyChanges, putSource, removeSource, putWorkflow, removeWorkflow }
}
