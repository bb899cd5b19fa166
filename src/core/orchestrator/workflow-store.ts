import type { WorkflowRecord, WorkflowSummary, WorkflowVersion } from '../../shared/domain'
import type { WorkflowDefinition } from '../../shared/workflow'
import type { Db } from '../store/database'

interface WorkflowRow {
  id: string
  name: string
  enabled: number
  version: number
  source_id: string
  definition: string
  created_at: number
  updated_at: number
}

/** How many parsed definitions are kept in memory (a version's text never changes once saved). */
const PARSED_CACHE = 256

/**
 * Workflows and every saved version of each. Call the writers inside a transaction. Parsed definitions are
 * shared between callers and must be treated as read-only.
 */
export class WorkflowStore {
  private readonly stmt
  /** Parsed definitions by their JSON text: a saved version is immutable, so a run parses its version once. */
  private readonly parsed = new Map<string, WorkflowDefinition>()

  constructor(db: Db) {
    this.stmt = {
      list: db.prepare(`SELECT * FROM workflows ORDER BY id`),
      get: db.prepare(`SELECT * FROM workflows WHERE id = ?`),
      bySource: db.prepare(`SELECT * FROM workflows WHERE source_id = ? AND enabled = 1 ORDER BY id`),
      maxVersion: db.prepare(`SELECT MAX(version) AS v FROM workflow_versions WHERE workflow_id = ?`),
      insertVersion: db.prepare(
        `INSERT INTO workflow_versions (workflow_id, version, definition, created_at) VALUES (?, ?, ?, ?)`,
      ),
      upsert: db.prepare(
        `INSERT INTO workflows (id, name, enabled, version, source_id, definition, created_at, updated_at)
         VALUES (@id, @name, @enabled, @version, @source, @definition, @now, @now)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, enabled = excluded.enabled, version = excluded.version,
           source_id = excluded.source_id, definition = excluded.definition, updated_at = excluded.updated_at`,
      ),
      setEnabled: db.prepare(`UPDATE workflows SET enabled = ?, definition = ?, updated_at = ? WHERE id = ?`),
      remove: db.prepare(`DELETE FROM workflows WHERE id = ?`),
      versions: db.prepare(`SELECT * FROM workflow_versions WHERE workflow_id = ? ORDER BY version DESC`),
      version: db.prepare(`SELECT definition FROM workflow_versions WHERE workflow_id = ? AND version = ?`),
    }
  }

  list(): WorkflowSummary[] {
    return (this.stmt.list.all() as WorkflowRow[]).map(toSummary)
  }

  get(id: string): WorkflowRecord | null {
    const row = this.stmt.get.get(id) as WorkflowRow | undefined
    return row ? toRecord(row) : null
  }

  /** Enabled workflows listening on a source, with their current definitions. */
  enabledFor(sourceId: string): Array<{ version: number; definition: WorkflowDefinition }> {
    return (this.stmt.bySource.all(sourceId) as WorkflowRow[]).map((r) => ({
      version: r.version,
      definition: this.parse(r.definition),
    }))
  }

  /**
   * The parsed definition of a stored JSON text, from memory when that exact text was parsed before. Keyed by
   * the text itself (not by id and version), so that a definition edited in place (enabled on/off) is never
   * served stale.
   */
  private parse(text: string): WorkflowDefinition {
    let definition = this.parsed.get(text)
    if (!definition) {
      definition = JSON.parse(text) as WorkflowDefinition
      if (this.parsed.size >= PARSED_CACHE) this.parsed.delete(this.parsed.keys().next().value!)
      this.parsed.set(text, definition)
    }
    return definition
  }

  /**
   * Save a definition as a new version (numbered after every version ever saved under this id, so a
   * re-created workflow never collides with runs pinned to an old one). An unchanged definition keeps its version.
   */
  save(definition: WorkflowDefinition, now: number): { record: WorkflowRecord; changed: boolean } {
    const current = this.stmt.get.get(definition.id) as WorkflowRow | undefined
    const text = JSON.stringify(definition)
    if (current && current.definition === text) return { record: toRecord(current), changed: false }
    const { v } = this.stmt.maxVersion.get(definition.id) as { v: number | null }
    const version = (v ?? 0) + 1
    this.stmt.insertVersion.run(definition.id, version, text, now)
    this.stmt.upsert.run({
      id: definition.id,
      name: definition.name,
      enabled: definition.enabled === false ? 0 : 1,
      version,
      source: definition.trigger.source,
      definition: text,
      now,
    })
    return { record: this.get(definition.id)!, changed: true }
  }

  /** Enable or disable without a new version (the switch is not an edit of the workflow's logic). */
  setEnabled(id: string, enabled: boolean, now: number): WorkflowRecord | null {
    const current = this.stmt.get.get(id) as WorkflowRow | undefined
    if (!current) return null
    const definition = { ...(JSON.parse(current.definition) as WorkflowDefinition), enabled }
    this.stmt.setEnabled.run(enabled ? 1 : 0, JSON.stringify(definition), now, id)
    return this.get(id)
  }

  remove(id: string): boolean {
    return this.stmt.remove.run(id).changes === 1
  }

  versions(id: string): WorkflowVersion[] {
    return (
      this.stmt.versions.all(id) as Array<{
        workflow_id: string
        version: number
        definition: string
        created_at: number
      }>
    ).map((r) => ({
      workflowId: r.workflow_id,
      version: r.version,
      createdAt: r.created_at,
      definition: JSON.parse(r.definition) as Record<string, unknown>,
    }))
  }

  /** The definition a run is pinned to (read-only: it is shared). */
  version(id: string, version: number): WorkflowDefinition | null {
    const row = this.stmt.version.get(id, version) as { definition: string } | undefined
    return row ? this.parse(row.definition) : null
  }
}

function toSummary(row: WorkflowRow): WorkflowSummary {
  const definition = JSON.parse(row.definition) as WorkflowDefinition
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled === 1,
    version: row.version,
    trigger: definition.trigger,
    updatedAt: row.updated_at,
  }
}

function toRecord(row: WorkflowRow): WorkflowRecord {
  return { ...toSummary(row), definition: JSON.parse(row.definition) as Record<string, unknown> }
}
