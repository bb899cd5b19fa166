import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../support/temp-dir'

const root = process.cwd()
const require = createRequire(join(root, 'package.json'))
const dir = tempDir('switchboard-packaging-')
afterAll(() => dir.remove())

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'
const ENABLE = 49
const DISABLE = 48

/** A stand-in Electron binary: some bytes, the fuse sentinel, wire version 1, eight fuses all enabled. */
function fakeElectronBinary(file: string): void {
  const wire = Buffer.from([1, 8, ...Array<number>(8).fill(ENABLE)])
  writeFileSync(
    file,
    Buffer.concat([Buffer.from('\x7fELF fake electron '), Buffer.from(SENTINEL), wire, Buffer.from('tail')]),
  )
}

function fuses(file: string): number[] {
  const bytes = readFileSync(file)
  const at = bytes.indexOf(SENTINEL) + SENTINEL.length
  return [...bytes.subarray(at + 2, at + 2 + bytes[at + 1]!)]
}

type AfterPack = (context: unknown) => Promise<void>

describe('packaging', () => {
  it('electron-builder.yml passes electron-builder’s own schema', async () => {
    const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      getConfig(dir: string, path: null, options: null): Promise<Record<string, unknown>>
      validateConfiguration(config: unknown, logger: unknown): Promise<void>
    }
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown }
    const config = await getConfig(root, null, null)
    await validateConfiguration(config, new DebugLogger(false))
    expect(config).toMatchObject({
      asarUnpack: ['node_modules/better-sqlite3/**', 'out/main/search-*.mjs'],
      npmRebuild: false,
      afterPack: './scripts/after-pack.mjs',
      linux: { target: ['AppImage', 'deb'] },
      mac: { target: ['dmg'] },
      win: { target: ['nsis'] },
    })
  })

  it('the afterPack hook sets the fuses on a packaged Linux binary', async () => {
    const out = join(dir.path, 'linux-unpacked')
    mkdirSync(out)
    fakeElectronBinary(join(out, 'switchboard'))
    const { default: afterPack } = (await import(join(root, 'scripts/after-pack.mjs'))) as {
      default: AfterPack
    }
    await afterPack({
      appOutDir: out,
      electronPlatformName: 'linux',
      arch: 1,
      packager: { appInfo: { productFilename: 'Switchboard' }, executableName: 'switchboard' },
    })
    // RunAsNode, CookieEncryption, NODE_OPTIONS, --inspect, AsarIntegrity, OnlyLoadAppFromAsar, V8 snapshot, file://
    expect(fuses(join(out, 'switchboard'))).toEqual([
      DISABLE,
      ENABLE,
      DISABLE,
      DISABLE,
      ENABLE,
      ENABLE,
      DISABLE,
      DISABLE,
    ])
  })

  it('finds the fuses of a macOS app inside its framework', async () => {
    const out = join(dir.path, 'mac')
    const framework = join(out, 'Switchboard.app', 'Contents', 'Frameworks', 'Electron Framework.framework')
    mkdirSync(framework, { recursive: true })
    fakeElectronBinary(join(framework, 'Electron Framework'))
    const { default: afterPack } = (await import(join(root, 'scripts/after-pack.mjs'))) as {
      default: AfterPack
    }
    await afterPack({
      appOutDir: out,
      electronPlatformName: 'darwin',
      arch: 1,
      packager: { appInfo: { productFilename: 'Switchboard' }, executableName: 'Switchboard' },
    })
    expect(fuses(join(framework, 'Electron Framework'))[0]).toBe(DISABLE)
  })

  it.each([
    ['icon.png', 1024],
    ['tray.png', 16],
    ['tray@2x.png', 32],
    ['tray-alert.png', 16],
    ['tray-alert@2x.png', 32],
    ['trayTemplate.png', 16],
    ['trayTemplate@2x.png', 32],
    ['trayAlertTemplate.png', 16],
    ['trayAlertTemplate@2x.png', 32],
  ])('resources/%s is a %ipx RGBA PNG', (name, size) => {
    const png = readFileSync(join(root, 'resources', name))
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR')
    expect([png.readUInt32BE(16), png.readUInt32BE(20), png[24], png[25]]).toEqual([size, size, 8, 6])
  })
})
