import { copyFileSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_MIGRATIONS_DIR, openDatabase, type Db } from '../../src/core/store/database'

/**
 * A store as an older Switchboard left it: `switchboard.db` in `folder`, migrated only up to (not including)
 * migration `below` (e.g. '013'). Opening the file again without a migrations folder applies the rest.
 */
export function openStoreBefore(
  folder: string,
  below: string,
): { file: string; db: Db; /** The older code's migrations. */ migrationsDir: string } {
  const older = join(folder, `migrations-before-${below}`)
  mkdirSync(older)
  for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f < below))
    copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(older, f))
  const file = join(folder, 'switchboard.db')
  return { file, db: openDatabase({ file, migrationsDir: older }), migrationsDir: older }
}
