import { chmodSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestEngine, type TestEngine } from '../../support/engine'
import { http } from '../../support/http'
import { tempDir } from '../../support/temp-dir'

let t: TestEngine | null = null
const dirs: Array<{ remove(): void }> = []
afterEach(async () => {
  await t?.close()
  t = null
  for (const dir of dirs.splice(0)) dir.remove()
})

describe('the store on disk', () => {
  it.skipIf(process.platform === 'win32')(
    'is readable by its owner only, also in a data folder others can read',
    async () => {
      const dir = tempDir('switchboard-modes-')
      dirs.push(dir)
      const dataDir = join(dir.path, 'shared')
      mkdirSync(dataDir)
      chmodSync(dataDir, 0o755)
      t = await startTestEngine({ dataDir })
      await t.engine.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
      expect((await http(`${t.url}/hooks/shop`, { body: '{"private":true}' })).status).toBe(200)
      for (const name of ['switchboard.db', 'switchboard.db-wal', 'switchboard.db-shm']) {
        expect({ name, mode: statSync(join(dataDir, name)).mode & 0o777 }).toEqual({ name, mode: 0o600 })
      }
    },
  )
})
