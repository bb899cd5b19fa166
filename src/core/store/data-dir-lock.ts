import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'

/**
 * One engine per data folder. The lock file names the owning process; a lock left by a process that is gone
 * (a crash, `kill -9`) is taken over. Owning the folder is what lets a starting engine hand the jobs a dead
 * process held straight back to the queue instead of waiting out their leases.
 */
export class DataDirLock {
  private readonly file: string
  private held = false

  constructor(dataDir: string) {
    this.file = join(dataDir, 'engine.lock')
  }

  acquire(): void {
    const mine = JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() })
    try {
      writeFileSync(this.file, mine, { flag: 'wx', mode: 0o600 })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = readOwner(this.file)
      if (owner && owner.pid !== process.pid && owner.host === hostname() && isAlive(owner.pid)) {
        throw new Error(
          `another Switchboard (pid ${owner.pid}) is using ${this.file.replace(/[/\\]engine\.lock$/, '')}; ` +
            'stop it first, or delete engine.lock there if that process is not Switchboard',
          { cause: error },
        )
      }
      writeFileSync(this.file, mine, { mode: 0o600 })
    }
    this.held = true
  }

  release(): void {
    if (!this.held) return
    this.held = false
    if (readOwner(this.file)?.pid === process.pid) rmSync(this.file, { force: true })
  }
}

function readOwner(file: string): { pid: number; host: string } | null {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; host?: unknown }
    return typeof owner.pid === 'number' && typeof owner.host === 'string'
      ? { pid: owner.pid, host: owner.host }
      : null
  } catch {
    return null
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
