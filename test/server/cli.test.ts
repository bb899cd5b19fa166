import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { http } from '../support/http'
import { tempDir } from '../support/temp-dir'

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

/** Run `npm run serve`'s entry point with arguments it answers and exits on; what it printed and its code. */
async function runToExit(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/cli.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (err += d))
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, out, err }
}

/** Start `npm run serve`'s entry point and wait for its three start-up lines. */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/cli.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let out = ''
  let err = ''
  child.stderr!.on('data', (d) => (err += d))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d
      if (/^Open: /m.test(out)) resolve()
    })
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)))
  })
  const line = (prefix: string) =>
    out
      .split('\n')
      .find((l) => l.startsWith(prefix))!
      .slice(prefix.length)
      .trim()
  return {
    child,
    receiver: line('Switchboard receiver:'),
    api: line('Switchboard control API:'),
    login: line('Open:'),
    output: () => out,
  }
}

describe('npm run serve', () => {
  it('prints both ports and the login link, then stops gracefully on SIGTERM', async () => {
    const dir = tempDir()
    try {
      const server = await serve(['--data-dir', dir.path, '--port', '0', '--api-port', '0', '--no-tunnel'], {
        SWITCHBOARD_API_TOKEN: 'cli-test-token',
      })
      expect(server.receiver).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(server.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(server.login).toBe(`${server.api}/login?token=cli-test-token`)
      const auth = { authorization: 'Bearer cli-test-token', 'content-type': 'application/json' }
      await http(`${server.api}/api/sources`, {
        headers: auth,
        body: JSON.stringify({ id: 'cli', name: 'CLI', provider: 'none' }),
      })
      const sent = await http(`${server.receiver}/hooks/cli`, { body: '{"type":"before.stop"}' })
      expect(sent.status).toBe(200)

      server.child.kill('SIGTERM')
      const [code] = await once(server.child, 'exit')
      expect(code).toBe(0)
      expect(server.output()).toMatch(/SIGTERM: stopping/)

      // The store was closed cleanly and holds the event.
      const db = new Database(join(dir.path, 'switchboard.db'), { readonly: true })
      const row = db.prepare(`SELECT type FROM events WHERE id = ?`).get((sent.json as { id: string }).id)
      db.close()
      expect(row).toEqual({ type: 'before.stop' })
    } finally {
      dir.remove()
    }
  })

  it('explains every flag on --help, and exits', async () => {
    const { code, out } = await runToExit(['--help'])
    expect(code).toBe(0)
    for (const flag of [
      '--data-dir',
      '--port',
      '--api-port',
      '--host',
      '--no-tunnel',
      '--tunnel-host',
      '--subdomain',
      '--external-url',
    ]) {
      expect(out).toMatch(new RegExp(`^  ${flag} +\\S`, 'm'))
    }
    expect(out).toMatch(/SWITCHBOARD_API_TOKEN/)
  })

  it('refuses a bad flag with a clear message and the usage', async () => {
    const { code, err } = await runToExit(['--port', 'eighty'])
    expect(code).toBe(1)
    expect(err).toMatch(/--port must be a port number/)
    expect(err).toMatch(/Usage: npm run serve/)
  })
})
