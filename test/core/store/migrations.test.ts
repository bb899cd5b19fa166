import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Db } from '../../../src/core/store/database'
import { openStoreBefore } from '../../support/older-store'
import { tempDir } from '../../support/temp-dir'

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

function storeBefore(below: string): ReturnType<typeof openStoreBefore> {
  const dir = tempDir('switchboard-migrations-')
  cleanups.push(() => dir.remove())
  return openStoreBefore(dir.path, below)
}

function open(file: string, migrate = true): Db {
  const db = openDatabase({ file, migrate })
  cleanups.push(() => void db.close())
  return db
}

const INSERT = `INSERT INTO events (id, source_id, received_at, method, path, headers, body, body_size, dedup_id,
  status, verification) VALUES (?, 'shop', 0, 'POST', '/', '{}', x'00ff', 2, ?, ?, ?)`

describe('migration 013: the events checks without IN lists', () => {
  it('keeps every row and allows exactly the values it allowed before', () => {
    const { file, db: v12 } = storeBefore('013')
    const insert = v12.prepare(INSERT)
    insert.run('evt_1', 'msg_1', 'accepted', 'verified')
    insert.run('evt_2', 'msg_2', 'rejected', 'failed')
    expect(v12.pragma('user_version', { simple: true })).toBe(12)
    const before = v12.prepare(`SELECT * FROM events ORDER BY seq`).all()
    v12.close()

    const db = open(file)
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(13)
    const schema = db.prepare(`SELECT sql FROM sqlite_schema WHERE name = 'events'`).pluck().get() as string
    expect(schema).not.toMatch(/ IN \(/)
    expect(schema).toContain(`CHECK (status = 'accepted' OR`)
    expect(db.prepare(`SELECT * FROM events ORDER BY seq`).all()).toEqual(before)
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')

    const statuses = ['accepted', 'duplicate', 'rejected', 'blocked', 'handshake']
    const verifications = ['verified', 'failed', 'unsigned']
    // A connection opened after the migration reads the new text as well as the one that ran it.
    const other = open(file, false)
    for (const conn of [db, other]) {
      const insertNow = conn.prepare(INSERT)
      for (const status of statuses)
        for (const verification of verifications) {
          const id = `${conn === db ? 'a' : 'b'}_${status}_${verification}`
          expect(() => insertNow.run(id, id, status, verification)).not.toThrow()
        }
      // The message quotes the constraint as the connection parsed it: the new text on both.
      expect(() => insertNow.run('x1', 'x1', 'queued', 'verified')).toThrow(
        /CHECK constraint failed: status = 'accepted' OR/,
      )
      expect(() => insertNow.run('x2', 'x2', 'Accepted', 'verified')).toThrow(/CHECK constraint failed/)
      expect(() => insertNow.run('x3', 'x3', 'accepted', 'signed')).toThrow(
        /CHECK constraint failed: verification/,
      )
    }
  })

  it('leaves a store an older Switchboard can still open and write', () => {
    const { file, db: v12, migrationsDir } = storeBefore('013')
    v12.close()
    openDatabase({ file }).close()
    // The older code's migrations stop at 012: it applies nothing to a store at 13, and its rows still go in.
    const older = openDatabase({ file, migrationsDir })
    cleanups.push(() => void older.close())
    expect(older.pragma('user_version', { simple: true })).toBe(13)
    older.prepare(INSERT).run('evt_old', 'msg_old', 'accepted', 'verified')
    expect(() => older.prepare(INSERT).run('evt_bad', 'msg_bad', 'queued', 'verified')).toThrow(/CHECK/)
    expect(older.pragma('integrity_check', { simple: true })).toBe('ok')
  })

  it('leaves the connection in defensive mode: the schema cannot be written afterwards', () => {
    const { file, db: v12 } = storeBefore('013')
    v12.close()
    const db = open(file)
    db.pragma('writable_schema = ON')
    expect(db.pragma('writable_schema', { simple: true })).toBe(0)
    expect(() => db.prepare(`UPDATE sqlite_schema SET sql = sql WHERE name = 'events'`).run()).toThrow(
      /may not be modified|read-only|not authorized/,
    )
  })
})
