import Database from 'better-sqlite3'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type Db = Database.Database

export interface OpenOptions {
  /** Path of the database file, or ':memory:'. */
  file: string
  /** Folder holding the numbered `NNN-name.sql` migrations. Defaults to the one beside this module. */
  migrationsDir?: string
  /** Path of the better-sqlite3 native addon to load (the desktop app passes its Electron-ABI build). */
  nativeBinding?: string
}

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url))

/**
 * Open the database with the durability the design promises (WAL, synchronous=FULL: a commit is on disk
 * before anything is acknowledged) and bring its schema up to date.
 */
export function openDatabase(options: OpenOptions): Db {
  const db = new Database(options.file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {})
  // Takes effect only on a new file (before WAL): ~1 KB webhook bodies pack better into 8 KiB pages.
  db.pragma('page_size = 8192')
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  db.pragma('temp_store = MEMORY')
  migrate(db, options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR)
  return db
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
    db.transaction(() => {
      db.exec(sql)
      db.pragma(`user_version = ${n}`)
    }).immediate()
    version = n
  }
  return version
}
