import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readDesktopEnv } from '../../src/main/desktop-env'
import { pickNativeBinding } from '../../src/main/native-binding'
import { tempDir } from '../support/temp-dir'

describe('desktop environment overrides', () => {
  it('reads the data folder, receiver port, tunnel switch and dev server', () => {
    expect(
      readDesktopEnv({
        SWITCHBOARD_USER_DATA_DIR: '/tmp/profile',
        SWITCHBOARD_DATA_DIR: '/tmp/sb',
        SWITCHBOARD_PORT: '0',
        SWITCHBOARD_TUNNEL: 'off',
        ELECTRON_RENDERER_URL: 'http://localhost:5173',
      }),
    ).toEqual({
      userDataDir: '/tmp/profile',
      dataDir: '/tmp/sb',
      receiver: { port: 0 },
      tunnel: { mode: 'off' },
      devServerUrl: 'http://localhost:5173',
    })
    expect(readDesktopEnv({})).toEqual({})
  })

  it.each(['-1', '65536', '80.5', 'http', ' 80', '1e3'])(
    'refuses SWITCHBOARD_PORT=%j naming the variable',
    (port) => {
      expect(() => readDesktopEnv({ SWITCHBOARD_PORT: port })).toThrow(/SWITCHBOARD_PORT/)
    },
  )

  it('refuses tunnel settings other than off', () => {
    expect(() => readDesktopEnv({ SWITCHBOARD_TUNNEL: 'on' })).toThrow(/SWITCHBOARD_TUNNEL/)
  })
})

describe('Electron-ABI better-sqlite3 pick', () => {
  const dir = tempDir('switchboard-native-')
  afterAll(() => dir.remove())
  const folder = (name: string, manifest: unknown, addon = true): string => {
    const path = join(dir.path, name)
    mkdirSync(path)
    if (addon) writeFileSync(join(path, 'better_sqlite3.node'), 'not really an addon')
    if (manifest !== undefined) writeFileSync(join(path, 'manifest.json'), JSON.stringify(manifest))
    return path
  }

  it('uses the build made for exactly this Electron', () => {
    const path = folder('match', { electron: '41.7.1', abi: '145' })
    expect(pickNativeBinding(path, '41.7.1')).toEqual({ path: join(path, 'better_sqlite3.node') })
  })

  it('ignores a build for another Electron, a missing manifest, or no build at all, saying why', () => {
    const other = pickNativeBinding(folder('other', { electron: '40.0.0' }), '41.7.1')
    expect(other).toMatchObject({
      path: undefined,
      reason: expect.stringMatching(/Electron 40\.0\.0, this is 41\.7\.1/),
    })
    expect(pickNativeBinding(folder('nomanifest', undefined), '41.7.1')).toMatchObject({ path: undefined })
    expect(pickNativeBinding(folder('noaddon', { electron: '41.7.1' }, false), '41.7.1')).toMatchObject({
      path: undefined,
      reason: expect.stringMatching(/no Electron build/),
    })
    expect(pickNativeBinding(folder('plain-node', { electron: '41.7.1' }), undefined)).toMatchObject({
      path: undefined,
    })
  })
})
