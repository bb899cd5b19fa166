import type { Db } from './database'

/** A small key-value table for engine state that must survive a restart (tunnel subdomain, intake pause, …). */
export class Settings {
  private readonly getStmt
  private readonly setStmt

  constructor(db: Db) {
    this.getStmt = db.prepare(`SELECT value FROM settings WHERE key = ?`)
    this.setStmt = db.prepare(
      `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    )
  }

  get(key: string): string | null {
    return (this.getStmt.get(key) as { value: string } | undefined)?.value ?? null
  }

  set(key: string, value: string): void {
    this.setStmt.run(key, value)
  }
}
