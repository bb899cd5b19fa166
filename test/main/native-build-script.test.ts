import { execFile } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const script = join(process.cwd(), 'scripts/build-electron-native.mjs')

/** Run the script as npm would (asynchronously: the loopback server below must keep answering). */
function runScript(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ status: number; output: string }> {
  const clean = { ...process.env }
  delete clean.ELECTRON_SKIP_BINARY_DOWNLOAD
  delete clean.SWITCHBOARD_SKIP_ELECTRON_NATIVE
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      { env: { ...clean, ...env }, encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? -1 : 0
        resolve({ status: code, output: stdout + stderr })
      },
    )
  })
}

/** A loopback "headers server" that answers 404, standing in for a mirror without this Electron. */
let server: Server
let missingHeaders: string
beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(404).end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  missingHeaders = `http://127.0.0.1:${(server.address() as { port: number }).port}/headers`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('postinstall: Electron build of better-sqlite3', () => {
  it('never fails an install where Electron is not downloaded, and says why', async () => {
    const { status, output } = await runScript({ ELECTRON_SKIP_BINARY_DOWNLOAD: '1' })
    expect(status).toBe(0)
    expect(output).toMatch(/ELECTRON_SKIP_BINARY_DOWNLOAD is set .* skipped/)
    expect(output).toMatch(/npm run build:native/)
  })

  it('degrades with a clear message when the headers cannot be fetched (offline)', async () => {
    const closed = await runScript({ SWITCHBOARD_ELECTRON_HEADERS_URL: 'http://127.0.0.1:9/headers' })
    expect(closed.status).toBe(0)
    expect(closed.output).toMatch(/headers are unreachable .*skipped/)
    const missing = await runScript({ SWITCHBOARD_ELECTRON_HEADERS_URL: missingHeaders })
    expect(missing.status).toBe(0)
    expect(missing.output).toMatch(/answered 404/)
  })

  it('fails when packaging requires the build and it cannot be made', async () => {
    const { status, output } = await runScript(
      { SWITCHBOARD_ELECTRON_HEADERS_URL: 'http://127.0.0.1:9/headers' },
      ['--require'],
    )
    expect(status).toBe(1)
    expect(output).not.toMatch(/skipped/)
  })
})
