/**
 * Desktop smoke test: launches the built app in real Electron (playwright-core's `_electron`), checks the
 * window shows the feed through the sandboxed preload, and that a webhook sent to the receiver appears live.
 *
 * Needs the Electron binary (a normal `npm install`, without ELECTRON_SKIP_BINARY_DOWNLOAD) and the Electron
 * build of better-sqlite3 (`npm run build:native`, which postinstall runs when online). Where the binary is
 * missing, the test reports itself as skipped.
 */
import { spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { _electron, type ElectronApplication, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OPERATION_NAMES } from '../../src/shared/contract'
import { http } from '../support/http'
import { tempDir } from '../support/temp-dir'

const root = process.cwd()

/** The Electron executable, or null where it was never downloaded. */
function electronBinary(): string | null {
  try {
    const path = createRequire(join(root, 'package.json'))('electron') as unknown
    return typeof path === 'string' && existsSync(path) ? path : null
  } catch {
    return null
  }
}

const electron = electronBinary()

/** Resolves with the receiver URL the app prints on start-up. */
function receiverUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(() => reject(new Error(`no receiver line; output so far:\n${seen}`)), 60_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8')
      const match = /Switchboard receiver: (http:\/\/\S+)/.exec(seen)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
  })
}

describe.skipIf(!electron)('desktop app (real Electron)', () => {
  const dir = tempDir('switchboard-electron-')
  let app: ElectronApplication
  let page: Page
  let receiver: string

  beforeAll(async () => {
    if (!existsSync(join(root, 'out/main/index.js'))) {
      expect(spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' }).status).toBe(0)
    }
    expect(
      spawnSync(process.execPath, ['scripts/build-electron-native.mjs', '--require'], {
        cwd: root,
        stdio: 'inherit',
      }).status,
      'the Electron build of better-sqlite3 (npm run build:native)',
    ).toBe(0)
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries(process.env)) {
      if (
        value !== undefined &&
        !['ELECTRON_RUN_AS_NODE', 'ELECTRON_RENDERER_URL', 'NODE_OPTIONS'].includes(key)
      ) {
        env[key] = value
      }
    }
    app = await _electron.launch({
      executablePath: electron!,
      args: [root],
      env: {
        ...env,
        SWITCHBOARD_USER_DATA_DIR: join(dir.path, 'profile'),
        SWITCHBOARD_DATA_DIR: join(dir.path, 'data'),
        SWITCHBOARD_PORT: '0',
        SWITCHBOARD_TUNNEL: 'off',
      },
    })
    receiver = await receiverUrl(app.process())
    page = await app.firstWindow()
    await page.waitForLoadState('domcontentloaded')
  })

  afterAll(async () => {
    await app?.close()
    dir.remove()
  })

  it('serves the UI from app:// with exactly the contract exposed, and no Node in the page', async () => {
    expect(page.url()).toBe('app://switchboard/index.html')
    const keys = await page.evaluate(() =>
      Object.keys((globalThis as unknown as { switchboard: object }).switchboard),
    )
    expect(keys.sort()).toEqual([...OPERATION_NAMES, 'onChange', 'ready'].sort())
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined')
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined')
  })

  it('shows the feed', async () => {
    await page.getByLabel('Events, newest first').waitFor({ state: 'visible', timeout: 30_000 })
  })

  it('shows a webhook live as it arrives', async () => {
    await page.evaluate(() =>
      (globalThis as unknown as { switchboard: Record<string, (a: unknown) => Promise<unknown>> })
        .switchboard['sources.create']!({ id: 'smoke', name: 'Smoke', provider: 'none' }),
    )
    const type = `smoke.${Date.now().toString(36)}`
    const res = await http(`${receiver}/hooks/smoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type, hello: 'desktop' }),
    })
    expect(res.status).toBe(200)
    await page.getByText(type).first().waitFor({ state: 'visible', timeout: 30_000 })
  })

  it('refuses a bad argument with the contract error', async () => {
    const error = await page.evaluate(() =>
      (globalThis as unknown as { switchboard: Record<string, (a: unknown) => Promise<unknown>> })
        .switchboard['intake.set']!({ paused: 'yes' }).then(
        () => null,
        (e: unknown) => e,
      ),
    )
    expect(error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/^paused:/) })
  })
})
