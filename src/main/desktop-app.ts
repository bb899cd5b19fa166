import { join } from 'node:path'
import type { EngineConfig, Log } from '../core/engine'
import { PUSH_CHANNEL, type NavigateTarget } from '../shared/ipc'
import { APP_ENTRY_URL, APP_ORIGIN, APP_SCHEME, serveAppRequest } from './app-protocol'
import type { ElectronBoundary, IpcSender, WindowPort } from './boundary'
import type { DesktopEngine } from './desktop-engine'
import { createDesktopNotifier } from './desktop-notifications'
import { safeExternalUrl } from './external-links'
import { registerIpcBridge } from './ipc-bridge'
import { permissionAllowed } from './permission-policy'
import { PushQueue } from './push-queue'
import { SafeStorageCipher } from './safe-storage-cipher'
import { isTrustedSender } from './sender-policy'
import { createTrayController, type TrayController } from './tray-controller'
import { hardenWebContents } from './web-contents-hardening'

export interface DesktopPaths {
  /** The built renderer (out/renderer), served as app://switchboard/. */
  rendererDir: string
  /** The sandboxed preload bundle (out/preload/index.cjs). */
  preload: string
  migrationsDir: string
  /** Electron-ABI better-sqlite3 addon, when one was built (see scripts/build-electron-native.mjs). */
  nativeBinding?: string
  windowIcon: string
  trayIcons: { normal: string; alert: string }
}

export interface DesktopAppOptions {
  boundary: ElectronBoundary
  createEngine(config: EngineConfig): DesktopEngine
  paths: DesktopPaths
  /** Electron's user-data folder (profile, single-instance lock); defaults to the OS's. */
  userDataDir?: string
  /** Data folder; defaults to `<userData>/data`. */
  dataDir?: string
  receiver?: EngineConfig['receiver']
  tunnel?: EngineConfig['tunnel']
  /** The electron-vite dev server (ELECTRON_RENDERER_URL); honoured only when the app is not packaged. */
  devServerUrl?: string
  log: Log
  /** Start-up lines for people and scripts (`Switchboard receiver: <url>`). */
  print(line: string): void
}

export interface DesktopApp {
  readonly engine: DesktopEngine
  readonly tray: TrayController
  readonly pushes: PushQueue
  window(): WindowPort
  /** Show the window and ask the UI to go to a target. */
  navigate(target: NavigateTarget | null): void
  /** Stop everything in order (idempotent): IPC, tray, then the engine (intake first, store last). */
  shutdown(): Promise<void>
}

/**
 * Register what must exist before the app is ready: the privileged app:// scheme. Call at module load.
 */
export function registerSchemes(boundary: ElectronBoundary): void {
  boundary.protocol.registerPrivilegedScheme(APP_SCHEME)
}

/**
 * The desktop composition root: single-instance lock, hardened session and protocol, the engine with the
 * keychain cipher, the IPC bridge, the window (close-to-tray), tray and notifications, and an ordered stop on
 * quit. Only wires. Resolves null when another instance already runs (this one then quits).
 */
export async function runDesktopApp(options: DesktopAppOptions): Promise<DesktopApp | null> {
  const { boundary, paths, log } = options
  const { app } = boundary
  if (options.userDataDir) app.setUserDataPath(options.userDataDir)
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return null
  }

  const devServer = !app.isPackaged && options.devServerUrl ? new URL(options.devServerUrl).origin : null
  const appOrigins = devServer ? [APP_ORIGIN, devServer] : [APP_ORIGIN]
  const openExternal = (raw: string) => {
    const url = safeExternalUrl(raw)
    if (url)
      boundary.shell
        .openExternal(url)
        .catch((error) => log('warn', 'could not open link', { error: String(error) }))
  }
  app.onWebContentsCreated((contents) => hardenWebContents(contents, { appOrigins, openExternal, log }))

  let window: WindowPort | null = null
  let quitting = false
  const showWindow = () => {
    if (!window || window.isDestroyed()) return
    if (window.isMinimized()) window.restore()
    window.show()
    window.focus()
  }
  app.on('second-instance', showWindow)
  app.on('activate', showWindow)
  // The app lives in the tray: closing the window must not end it.
  app.on('window-all-closed', () => {})

  await app.whenReady()

  const session = boundary.session()
  session.setPermissionRequestHandler(permissionAllowed)
  session.setPermissionCheckHandler(permissionAllowed)
  boundary.protocol.handle(APP_SCHEME, (url) => serveAppRequest(url, paths.rendererDir))

  const dataDir = options.dataDir ?? join(app.getPath('userData'), 'data')
  const engine = options.createEngine({
    dataDir,
    cipher: new SafeStorageCipher(boundary.safeStorage, dataDir, log),
    migrationsDir: paths.migrationsDir,
    ...(paths.nativeBinding ? { nativeBinding: paths.nativeBinding } : {}),
    ...(options.receiver ? { receiver: options.receiver } : {}),
    ...(options.tunnel ? { tunnel: options.tunnel } : {}),
    version: app.getVersion(),
    log,
  })

  const trust = { webContentsIds: new Set<number>(), origins: appOrigins }
  const isTrusted = (sender: IpcSender) => isTrustedSender(sender.frame, trust)
  const pushes = new PushQueue((batch) => {
    if (window && !window.isDestroyed() && !window.webContents.isDestroyed()) {
      window.webContents.send(PUSH_CHANNEL, batch)
    }
  })
  const disposeBridge = registerIpcBridge({
    ipcMain: boundary.ipcMain,
    engine,
    isTrusted,
    onReady: () => pushes.markReady(),
    onAcknowledge: (seq) => pushes.acknowledge(seq),
    log,
  })

  const navigate = (target: NavigateTarget | null) => {
    showWindow()
    if (target) pushes.push({ type: 'navigate', target })
  }
  const notifier = createDesktopNotifier({ boundary, onClick: navigate })
  const tray = createTrayController({
    boundary,
    engine,
    icons: paths.trayIcons,
    open: (target) => navigate(target === 'failures' ? { view: 'failures' } : null),
    quit: () => app.quit(),
    log,
  })
  const unsubscribe = engine.changes.subscribe((change) => {
    pushes.push(change)
    tray.handle(change)
    notifier.handle(change)
  })

  let stopping: Promise<void> | null = null
  const shutdown = () => {
    stopping ??= (async () => {
      unsubscribe()
      disposeBridge()
      tray.destroy()
      try {
        await engine.stop()
      } catch (error) {
        log('error', 'engine did not stop cleanly', { error: String(error) })
      }
    })()
    return stopping
  }
  let stopped = false
  app.onBeforeQuit((event) => {
    quitting = true
    if (stopped) return
    event.preventDefault()
    void shutdown().finally(() => {
      stopped = true
      app.quit()
    })
  })

  try {
    const { receiverUrl } = await engine.start()
    options.print(`Switchboard receiver: ${receiverUrl}`)
  } catch (error) {
    log('error', 'engine failed to start', { error: String(error) })
    await shutdown()
    stopped = true
    app.showErrorBox('Switchboard could not start', error instanceof Error ? error.message : String(error))
    app.exit(1)
    return null
  }

  const win = boundary.createWindow({
    width: 1280,
    height: 820,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'Switchboard',
    icon: paths.windowIcon,
    backgroundColor: '#111418',
    webPreferences: {
      preload: paths.preload,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  })
  window = win
  trust.webContentsIds.add(win.webContents.id)
  win.webContents.onMainFrameNavigation(() => pushes.markNotReady())
  win.onReadyToShow(() => win.show())
  win.onClose((event) => {
    if (quitting) return
    event.preventDefault()
    win.hide()
  })
  await tray.start()
  await win.loadURL(devServer && options.devServerUrl ? options.devServerUrl : APP_ENTRY_URL)

  return { engine, tray, pushes, window: () => win, navigate, shutdown }
}
