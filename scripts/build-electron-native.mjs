#!/usr/bin/env node
// Builds a second copy of better-sqlite3 for Electron's ABI into build/electron-native/, beside the Node
// build in node_modules (which tests and the headless server load). The desktop app loads this copy through
// better-sqlite3's `nativeBinding` option (src/main/native-binding.ts checks its manifest).
//
// Runs as `postinstall`: it never fails an install. Offline, without Electron, or with
// ELECTRON_SKIP_BINARY_DOWNLOAD / SWITCHBOARD_SKIP_ELECTRON_NATIVE set, it says why and exits 0.
// `--require` (used when packaging) turns any of those into a failure.
//
// First tries the prebuilt Electron binary better-sqlite3 publishes (prebuild-install), then compiles it
// with node-gyp against Electron's headers.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const OUT = join(ROOT, 'build', 'electron-native')
const ADDON = 'better_sqlite3.node'
const REQUIRED = process.argv.includes('--require')
const HEADERS_URL = process.env.SWITCHBOARD_ELECTRON_HEADERS_URL || 'https://electronjs.org/headers'
const require = createRequire(join(ROOT, 'package.json'))

function say(message) {
  console.log(`[switchboard] Electron build of better-sqlite3: ${message}`)
}

/** Stop without a build: fine during an install, a failure when packaging needs it. */
function giveUp(reason, hint) {
  say(`${reason}${REQUIRED ? '' : ' — skipped.'}`)
  if (hint) say(hint)
  if (REQUIRED) process.exit(1)
  say(
    'Tests and `npm run serve` are unaffected; the desktop app needs it: run `npm run build:native` when online.',
  )
  process.exit(0)
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'))
}

if (!REQUIRED && process.env.SWITCHBOARD_SKIP_ELECTRON_NATIVE)
  giveUp('SWITCHBOARD_SKIP_ELECTRON_NATIVE is set')
if (!REQUIRED && process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  giveUp('ELECTRON_SKIP_BINARY_DOWNLOAD is set (no Electron here)')
}

let electronVersion
let abi
let sqlitePackageDir
try {
  const electronPackage = require.resolve('electron/package.json')
  electronVersion = readJson(electronPackage).version
  const abiFile = join(dirname(electronPackage), 'abi_version')
  abi = existsSync(abiFile) ? readFileSync(abiFile, 'utf8').trim() : null
} catch {
  giveUp('the electron package is not installed (a production install?)')
}
try {
  sqlitePackageDir = dirname(require.resolve('better-sqlite3/package.json'))
} catch {
  giveUp('better-sqlite3 is not installed')
}
const sqliteVersion = readJson(join(sqlitePackageDir, 'package.json')).version
const platform = process.env.npm_config_platform || process.platform
const arch = process.env.npm_config_arch || process.arch

const manifestFile = join(OUT, 'manifest.json')
if (existsSync(join(OUT, ADDON)) && existsSync(manifestFile)) {
  const manifest = readJson(manifestFile)
  if (
    manifest.electron === electronVersion &&
    manifest.betterSqlite3 === sqliteVersion &&
    manifest.platform === platform &&
    manifest.arch === arch
  ) {
    say(`up to date (Electron ${electronVersion}, better-sqlite3 ${sqliteVersion}, ${platform}-${arch}).`)
    process.exit(0)
  }
}

// Offline check first, so an install without network is quick and clear rather than a long compile failure.
const headersUrl = `${HEADERS_URL}/v${electronVersion}/node-v${electronVersion}-headers.tar.gz`
try {
  const res = await fetch(headersUrl, {
    method: 'HEAD',
    redirect: 'follow',
    signal: AbortSignal.timeout(10_000),
  })
  if (!res.ok) giveUp(`Electron's headers answered ${res.status} at ${headersUrl}`)
} catch (error) {
  giveUp(
    `Electron's headers are unreachable (${error?.cause?.code ?? error?.cause?.message ?? error?.message ?? error}) at ${headersUrl}`,
    'Offline?',
  )
}

say(`building for Electron ${electronVersion} (ABI ${abi ?? '?'}, ${platform}-${arch})…`)
const stage = join(OUT, 'stage')
const moduleDir = join(stage, 'better-sqlite3')
rmSync(stage, { recursive: true, force: true })
mkdirSync(stage, { recursive: true })
// Build output, never committed.
writeFileSync(join(OUT, '.gitignore'), '*\n')
// A private copy, so the Node build in node_modules is never touched.
cpSync(sqlitePackageDir, moduleDir, {
  recursive: true,
  filter: (src) =>
    !src.startsWith(join(sqlitePackageDir, 'build')) && !src.includes(`${join('node_modules', '.cache')}`),
})

const env = { ...process.env, npm_config_runtime: 'electron', npm_config_target: electronVersion }
const run = (label, args) => {
  const result = spawnSync(process.execPath, args, {
    cwd: moduleDir,
    env,
    stdio: 'inherit',
    timeout: 15 * 60_000,
  })
  if (result.status !== 0)
    say(`${label} did not succeed (${result.error?.message ?? `exit ${result.status}`}).`)
  return result.status === 0 && existsSync(join(moduleDir, 'build', 'Release', ADDON))
}

let method = null
try {
  const prebuild = require.resolve('prebuild-install/bin.js', { paths: [sqlitePackageDir] })
  if (
    run('prebuilt download', [
      prebuild,
      '--runtime=electron',
      `--target=${electronVersion}`,
      `--arch=${arch}`,
      `--platform=${platform}`,
    ])
  ) {
    method = 'prebuild-install'
  }
} catch {
  say('prebuild-install is not available; compiling.')
}
if (!method) {
  let nodeGyp
  try {
    nodeGyp = require.resolve('node-gyp/bin/node-gyp.js')
  } catch {
    rmSync(stage, { recursive: true, force: true })
    giveUp('node-gyp is not installed, so it cannot be compiled')
  }
  if (
    run('compiling with node-gyp', [
      nodeGyp,
      'rebuild',
      '--release',
      '--runtime=electron',
      `--target=${electronVersion}`,
      `--arch=${arch}`,
      `--dist-url=${HEADERS_URL}`,
    ])
  ) {
    method = 'node-gyp'
  }
}
if (!method) {
  rmSync(stage, { recursive: true, force: true })
  giveUp('neither a prebuilt binary nor a compile worked', 'A compile needs Python 3 and a C++ toolchain.')
}

copyFileSync(join(moduleDir, 'build', 'Release', ADDON), join(OUT, ADDON))
writeFileSync(
  manifestFile,
  JSON.stringify(
    {
      electron: electronVersion,
      abi,
      betterSqlite3: sqliteVersion,
      platform,
      arch,
      method,
      builtAt: new Date().toISOString(),
    },
    null,
    2,
  ) + '\n',
)
rmSync(stage, { recursive: true, force: true })
say(`done (${method}): ${join('build', 'electron-native', ADDON)}`)
