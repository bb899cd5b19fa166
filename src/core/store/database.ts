import Database from 'better-sqlite3'
import { chmodSync, closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dedupKey } from './dedup-key'

export type Db = Database.Database

export interface OpenOptions {
  /** Path of the database file, or ':memory:'. */
  file: string
  /** Folder holding the numbered `NNN-name.sql` migrations. Defaults to the one beside this module. */
  migrationsDir?: string
  /** Path of the better-sqlite3 native addon to load (the desktop app passes its Electron-ABI build). */
  nativeBinding?: string
  /**
   * FULL (default): every commit is fsynced before it returns — what an acknowledgement needs.
   * NORMAL: commits survive a process crash (WAL) and become durable at the next FULL commit or checkpoint.
   */
  synchronous?: 'FULL' | 'NORMAL'
  /** Apply migrations (default true); a second connection to a migrated file passes false. */
  migrate?: boolean
}

/** The store's file in the data folder. */
export const STORE_FILE_NAME = 'switchboard.db'

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url))

/**
 * Open the database with the durability the design promises (WAL, synchronous=FULL: a commit is on disk
 * before anything is acknowledged) and bring its schema up to date.
 *
 * The engine opens the file twice, both in this one thread (so their transactions never overlap): the intake
 * connection (FULL) for what is acknowledged, and the work connection (NORMAL) for the workers' bookkeeping.
 * A work commit survives `kill -9`; on power loss the newest ones may be redone, which at-least-once jobs and
 * idempotency-keyed effects allow. Every FULL intake commit also makes the earlier work commits durable.
 */
export function openDatabase(options: OpenOptions): Db {
  const db = new Database(options.file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {})
  db.pragma('journal_mode = WAL')
  // After a checkpoint the WAL is cut back to this size, so one burst does not keep its disk space for good.
  db.pragma('journal_size_limit = 8388608')
  db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`)
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  db.pragma('temp_store = MEMORY')
  // Migration 008 computes the keys of existing dedup entries with it.
  db.function('dedup_key', { deterministic: true }, (sourceId, dedupId) =>
    dedupKey(String(sourceId), String(dedupId)),
  )
  if (options.migrate !== false) migrate(db, options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR)
  return db
}

/**
 * Make the database file readable by its owner only, creating it if needed, before SQLite opens it: SQLite
 * gives its -wal and -shm files the database file's permissions. A data folder the user points at may already
 * exist and be readable by others (the engine creates its own folder 0700, but cannot assume it did).
 */
export function restrictToOwner(file: string): void {
  closeSync(openSync(file, 'a', 0o600))
  for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o600)
}

/** Apply, in order and each in its own transaction, the migrations whose number is above `user_version`. */
export function migrate(db: Db, dir: string): number {
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}-[a-z0-9-]+\.sql$/.test(f))
    .sort()
  let version = db.pragma('user_version', { simple: true }) as number
  for (const file of files) {
    const n = Number(file.slice(0, 3))
    if (n <= version) continue
    const sql = readFileSync(join(dir, file), 'utf8')
    // A migration that edits the schema's text in place (a change SQLite documents as safe without rebuilding the
    // table, such as a CHECK constraint) needs defensive mode lifted, for it alone; the schema version is then
    // bumped so that this and every later connection parses the new text.
    const editsSchema = /PRAGMA\s+writable_schema\s*=\s*ON/i.test(sql)
    if (editsSchema) db.unsafeMode(true)
    try {
      db.transaction(() => {
        const schemaVersion = db.pragma('schema_version', { simple: true }) as number
        db.exec(sql)
        if (editsSchema) db.pragma(`schema_version = ${schemaVersion + 1}`)
        db.pragma(`user_version = ${n}`)
      }).immediate()
    } finally {
      if (editsSchema) db.unsafeMode(false)
    }
    version = n
  }
  return version
}
