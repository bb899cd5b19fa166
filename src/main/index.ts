import { join } from 'node:path'
import { createEngine, type Log } from '../core/engine'
import { runDesktopApp, registerSchemes } from './desktop-app'
import { readDesktopEnv } from './desktop-env'
import { electronBoundary } from './electron-boundary'
import { pickNativeBinding } from './native-binding'

// Electron entry: only wiring. Paths are relative to the bundle in out/main.
const here = import.meta.dirname
const boundary = electronBoundary()
registerSchemes(boundary)

const log: Log = (level, message, data) => {
  const line = `[switchboard] ${level}: ${message}${data ? ' ' + JSON.stringify(data) : ''}`
  if (level === 'error') console.error(line)
  else console.log(line)
}

const packaged = boundary.app.isPackaged
const resources = packaged
  ? join(process.resourcesPath, 'icons')
  : join(boundary.app.getAppPath(), 'resources')
const native = pickNativeBinding(
  packaged
    ? join(process.resourcesPath, 'native')
    : join(boundary.app.getAppPath(), 'build', 'electron-native'),
  process.versions.electron,
)
if (native.path === undefined) log('warn', `${native.reason}; loading better-sqlite3's own build`)
const trayName = process.platform === 'darwin' ? 'trayTemplate' : 'tray'

async function start(): Promise<void> {
  const env = readDesktopEnv(process.env)
  await runDesktopApp({
    boundary,
    createEngine,
    paths: {
      rendererDir: join(here, '../renderer'),
      preload: join(here, '../preload/index.cjs'),
      migrationsDir: join(here, 'migrations'),
      ...(native.path ? { nativeBinding: native.path } : {}),
      windowIcon: join(resources, 'icon.png'),
      trayIcons: {
        normal: join(resources, `${trayName}.png`),
        alert: join(resources, process.platform === 'darwin' ? 'trayAlertTemplate.png' : 'tray-alert.png'),
      },
    },
    ...env,
    log,
    print: (line) => console.log(line),
  })
}

start().catch((error: unknown) => {
  log('error', 'Switchboard failed to start', { error: error instanceof Error ? error.stack : String(error) })
  boundary.app.exit(1)
})
