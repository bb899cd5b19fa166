import { spawn } from 'node:child_process'
import { writeFileSync, existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createEngine } from '../../../src/core/engine'
import { tempDir } from '../../support/temp-dir'

const config = (dataDir: string) => ({ dataDir, receiver: { port: 0 }, tunnel: { mode: 'off' as const } })

describe('one engine per data folder', () => {
  it('refuses a folder another live process holds, naming it', async () => {
    const dir = tempDir()
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'])
    try {
      writeFileSync(join(dir.path, 'engine.lock'), JSON.stringify({ pid: other.pid, host: hostname() }))
      expect(() => createEngine(config(dir.path))).toThrow(
        new RegExp(`another Switchboard \\(pid ${other.pid}\\)`),
      )
    } finally {
      other.kill('SIGKILL')
      dir.remove()
    }
  })

  it('takes over a lock left by a dead process and hands its running jobs straight back', async () => {
    const dir = tempDir()
    try {
      // A previous process: it held a dispatch job when it was killed, and its lock is still there.
      const first = createEngine({ ...config(dir.path), workers: 0 })
      await first.start()
      await first.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
      const res = await fetch(`${first.receiverUrl()}/hooks/shop`, { method: 'POST', body: '{"type":"x"}' })
      const { id } = (await res.json()) as { id: string }
      first.db
        .prepare(`UPDATE jobs SET status = 'running', lease_owner = 'dead-process', lease_until = ?`)
        .run(Date.now() + 3_600_000)
      await first.stop()
      writeFileSync(join(dir.path, 'engine.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname() }))

      const second = createEngine(config(dir.path))
      await second.start()
      // The hour-long lease does not hold it up: the job runs now.
      for (let i = 0; i < 100 && second.db.prepare(`SELECT COUNT(*) n FROM jobs`).pluck().get() !== 0; i++) {
        await new Promise((r) => setTimeout(r, 20))
      }
      expect(second.db.prepare(`SELECT COUNT(*) n FROM jobs`).pluck().get()).toBe(0)
      expect((await second.call('events.get', { id })).status).toBe('accepted')
      await second.stop()
      expect(existsSync(join(dir.path, 'engine.lock'))).toBe(false)
    } finally {
      dir.remove()
    }
  })
})
