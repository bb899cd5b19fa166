import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  Notification,
  protocol,
  safeStorage,
  session,
  shell,
  Tray,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions,
  type WebContents,
} from 'electron'
import type { ElectronBoundary, IpcSender, MenuItemSpec, WebContentsPort } from './boundary'

/** What the sender check needs from an IPC event; a destroyed frame reads as null (and is refused). */
function senderOf(event: IpcMainEvent | IpcMainInvokeEvent): IpcSender {
  try {
    const frame = event.senderFrame
    if (!frame) return { frame: null }
    return { frame: { url: frame.url, isMainFrame: frame.parent === null, webContentsId: event.sender.id } }
  } catch {
    return { frame: null }
  }
}

function webContentsPort(contents: WebContents): WebContentsPort {
  return {
    id: contents.id,
    isDestroyed: () => contents.isDestroyed(),
    send: (channel, message) => contents.send(channel, message),
    setWindowOpenHandler: (handler) => contents.setWindowOpenHandler(({ url }) => ({ action: handler(url) })),
    onWillNavigate: (listener) => contents.on('will-navigate', (event) => listener(event, event.url)),
    onWillRedirect: (listener) => contents.on('will-redirect', (event) => listener(event, event.url)),
    onWillAttachWebview: (listener) => contents.on('will-attach-webview', (event) => listener(event)),
    onMainFrameNavigation: (listener) =>
      contents.on('did-start-navigation', (details) => {
        if (details.isMainFrame && !details.isSameDocument) listener()
      }),
  }
}

function menuTemplate(items: MenuItemSpec[]): MenuItemConstructorOptions[] {
  return items.map(({ id, label, type, enabled, checked, click }) => ({
    ...(id ? { id } : {}),
    ...(label !== undefined ? { label } : {}),
    ...(type ? { type } : {}),
    ...(enabled !== undefined ? { enabled } : {}),
    ...(checked !== undefined ? { checked } : {}),
    ...(click ? { click: () => click() } : {}),
  }))
}

/** The real Electron modules behind the shell's ports. Thin adapters only; the rules live elsewhere. */
export function electronBoundary(): ElectronBoundary {
  return {
    app: {
      get isPackaged() {
        return app.isPackaged
      },
      platform: process.platform,
      getPath: (name) => app.getPath(name),
      setUserDataPath: (path) => app.setPath('userData', path),
      getAppPath: () => app.getAppPath(),
      getVersion: () => app.getVersion(),
      requestSingleInstanceLock: () => app.requestSingleInstanceLock(),
      whenReady: () => app.whenReady(),
      on: (event, listener) => {
        app.on(event as 'activate', listener)
      },
      onBeforeQuit: (listener) => app.on('before-quit', (event) => listener(event)),
      onWebContentsCreated: (listener) =>
        app.on('web-contents-created', (_event, contents) => listener(webContentsPort(contents))),
      quit: () => app.quit(),
      exit: (code) => app.exit(code),
      setLoginItemSettings: (settings) => app.setLoginItemSettings(settings),
      getLoginItemSettings: () => ({ openAtLogin: app.getLoginItemSettings().openAtLogin }),
      showErrorBox: (title, content) => dialog.showErrorBox(title, content),
    },
    createWindow: (options) => {
      const window = new BrowserWindow(options)
      const contents = webContentsPort(window.webContents)
      return {
        webContents: contents,
        loadURL: (url) => window.loadURL(url),
        show: () => window.show(),
        hide: () => window.hide(),
        focus: () => window.focus(),
        restore: () => window.restore(),
        isMinimized: () => window.isMinimized(),
        isVisible: () => window.isVisible(),
        isDestroyed: () => window.isDestroyed(),
        onClose: (listener) => window.on('close', (event) => listener(event)),
        onReadyToShow: (listener) => window.once('ready-to-show', listener),
      }
    },
    ipcMain: {
      handle: (channel, handler) =>
        ipcMain.handle(channel, (event, arg: unknown) => handler(senderOf(event), arg)),
      removeHandler: (channel) => ipcMain.removeHandler(channel),
      on: (channel, listener) => ipcMain.on(channel, (event, arg: unknown) => listener(senderOf(event), arg)),
      removeAllListeners: (channel) => ipcMain.removeAllListeners(channel),
    },
    createTray: (image) => {
      const tray = new Tray(image)
      return {
        setImage: (path) => tray.setImage(path),
        setToolTip: (text) => tray.setToolTip(text),
        setContextMenu: (items) => tray.setContextMenu(Menu.buildFromTemplate(menuTemplate(items))),
        onClick: (listener) => tray.on('click', () => listener()),
        destroy: () => tray.destroy(),
      }
    },
    notificationsSupported: () => Notification.isSupported(),
    createNotification: (options) => {
      const notification = new Notification(options)
      return {
        onClick: (listener) => notification.on('click', () => listener()),
        onClose: (listener) => notification.on('close', () => listener()),
        show: () => notification.show(),
      }
    },
    safeStorage: {
      isEncryptionAvailable: () => safeStorage.isEncryptionAvailable(),
      ...(process.platform === 'linux'
        ? { getSelectedStorageBackend: () => safeStorage.getSelectedStorageBackend() }
        : {}),
      encryptString: (plain) => safeStorage.encryptString(plain),
      decryptString: (blob) => safeStorage.decryptString(blob),
    },
    shell: { openExternal: (url) => shell.openExternal(url) },
    clipboard: { writeText: (text) => clipboard.writeText(text) },
    protocol: {
      registerPrivilegedScheme: (scheme) =>
        protocol.registerSchemesAsPrivileged([
          { scheme, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
        ]),
      handle: (scheme, handler) => protocol.handle(scheme, (request) => handler(request.url)),
    },
    session: () => ({
      setPermissionRequestHandler: (handler) =>
        session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) =>
          callback(handler(permission)),
        ),
      setPermissionCheckHandler: (handler) =>
        session.defaultSession.setPermissionCheckHandler((_contents, permission) => handler(permission)),
    }),
  }
}
