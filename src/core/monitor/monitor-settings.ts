import type { z } from 'zod'
import { ApiError, type monitorSettingsPatchSchema } from '../../shared/contract'
import type { GlobalMonitorSettings, MonitorSettings, SourceMonitorSettings } from '../../shared/domain'
import type { Db } from '../store/database'

export type MonitorSettingsPatch = z.output<typeof monitorSettingsPatchSchema>

/**
 * Sane defaults. Silence is off until a source says how often it expects events (a learned cadence would alert
 * on every quiet weekend); retention keeps 90 days and at most 200,000 events per source.
 */
export const DEFAULT_SOURCE_SETTINGS: SourceMonitorSettings = {
  expectedEveryMinutes: null,
  failureRate: { enabled: true, windowMinutes: 15, threshold: 0.5, minRuns: 4 },
  signatureFailures: { enabled: true, windowMinutes: 5, threshold: 10 },
  retention: { maxAgeDays: 90, maxEvents: 200_000 },
}

export const DEFAULT_GLOBAL_SETTINGS: GlobalMonitorSettings = {
  deadLetters: { enabled: true, windowMinutes: 60, growth: 3 },
  store: { enabled: true, limitBytes: 10 * 1024 ** 3, warnRatio: 0.8 },
}

const DEFAULTS_ROW = '*'
const GLOBAL_KEYS = ['deadLetters', 'store'] as const

type Stored = Record<string, unknown>

/**
 * Monitor settings in the `monitor_settings` table: the user's changes to the defaults (row '*', which also
 * holds the engine-wide rules) and each source's overrides. Reads are cached; writes replace the cache.
 */
export class MonitorSettingsStore {
  private cache: Map<string, Stored> | null = null
  private readonly stmt

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {
    this.stmt = {
      all: db.prepare(`SELECT source_id, config FROM monitor_settings`),
      put: db.prepare(
        `INSERT INTO monitor_settings (source_id, config, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (source_id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
      ),
      remove: db.prepare(`DELETE FROM monitor_settings WHERE source_id = ?`),
      sources: db.prepare(`SELECT id FROM sources ORDER BY created_at, id`),
    }
  }

  defaults(): SourceMonitorSettings {
    return merge(DEFAULT_SOURCE_SETTINGS, pick(this.rows().get(DEFAULTS_ROW) ?? {}, false))
  }

  global(): GlobalMonitorSettings {
    return merge(DEFAULT_GLOBAL_SETTINGS, pick(this.rows().get(DEFAULTS_ROW) ?? {}, true))
  }

  /** The settings that apply to a source: defaults with its overrides. */
  forSource(sourceId: string): SourceMonitorSettings {
    return merge(this.defaults(), this.rows().get(sourceId) ?? {})
  }

  view(): MonitorSettings {
    const ids = (this.stmt.sources.all() as Array<{ id: string }>).map((r) => r.id)
    return {
      defaults: this.defaults(),
      global: this.global(),
      sources: ids.map((sourceId) => ({
        sourceId,
        overrides: this.rows().get(sourceId) ?? {},
        effective: this.forSource(sourceId),
      })),
    }
  }

  /** Merge a patch into a source's overrides (or into the defaults without a source); null clears them. */
  configure(sourceId: string | undefined, patch: MonitorSettingsPatch | null): MonitorSettings {
    const row = sourceId ?? DEFAULTS_ROW
    if (sourceId !== undefined && patch) {
      for (const key of GLOBAL_KEYS) {
        if (patch[key] !== undefined)
          throw new ApiError('bad_request', `settings.${key}: applies to every source; omit source`)
      }
    }
    if (sourceId !== undefined && sourceId !== DEFAULTS_ROW) {
      const exists = this.db.prepare(`SELECT 1 FROM sources WHERE id = ?`).get(sourceId)
      if (!exists) throw new ApiError('not_found', `no source ${sourceId}`)
    }
    if (patch === null) this.stmt.remove.run(row)
    else
      this.stmt.put.run(row, JSON.stringify(merge(this.rows().get(row) ?? {}, patch as Stored)), this.now())
    this.cache = null
    return this.view()
  }

  private rows(): Map<string, Stored> {
    if (!this.cache) {
      const rows = this.stmt.all.all() as Array<{ source_id: string; config: string }>
      this.cache = new Map(rows.map((r) => [r.source_id, JSON.parse(r.config) as Stored]))
    }
    return this.cache
  }
}

function pick(stored: Stored, global: boolean): Stored {
  return Object.fromEntries(
    Object.entries(stored).filter(([k]) => (GLOBAL_KEYS as readonly string[]).includes(k) === global),
  )
}

/** Deep merge of plain objects; `undefined` in the patch keeps the base value, `null` sets null. */
function merge<T>(base: T, patch: Stored): T {
  const out: Stored = { ...(base as Stored) }
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue
    const current = out[key]
    out[key] =
      isPlainObject(value) && isPlainObject(current)
        ? merge(current, value)
        : isPlainObject(value)
          ? merge({}, value)
          : value
  }
  return out as T
}

function isPlainObject(value: unknown): value is Stored {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
