/**
 * The Electron surface the desktop shell uses, as small ports. `electron-boundary.ts` adapts the real
 * Electron modules to them; tests hand in fakes, so every rule of the shell is tested without Electron.
 * Types only: importing this module never loads Electron.
 */

/** An event whose default action a listener may cancel. */
export interface Preventable {
  preventDefault(): void
}

/** What an IPC handler learns about its sender (`event.senderFrame` + `event.sender.id`). */
export interface IpcSender {
  /** Null when the frame has navigated away or been destroyed since it sent the message. */
  frame: { url: string; isMainFrame: boolean; webContentsId: number } | null
}

export interface AppPort {
  readonly isPackaged: boolean
  readonly platform: NodeJS.Platform
  getPath(name: 'userData'): string
  /** Move the user-data folder (before ready; the single-instance lock lives there). */
  setUserDataPath(path: string): void
  getAppPath(): string
  getVersion(): string
  requestSingleInstanceLock(): boolean
  whenReady(): Promise<void>
  on(event: 'second-instance' | 'activate' | 'window-all-closed', listener: () => void): void
  onBeforeQuit(listener: (event: Preventable) => void): void
  /** Every WebContents the app ever creates (windows, devtools, anything), to harden each one. */
  onWebContentsCreated(listener: (contents: WebContentsPort) => void): void
  quit(): void
  exit(code: number): void
  setLoginItemSettings(settings: { openAtLogin: boolean }): void
  getLoginItemSettings(): { openAtLogin: boolean }
  showErrorBox(title: string, content: string): void
}

export interface WebContentsPort {
  readonly id: number
  isDestroyed(): boolean
  send(channel: string, message: unknown): void
  /** Decide on `window.open` / target=_blank; the shell always answers deny. */
  setWindowOpenHandler(handler: (url: string) => 'deny'): void
  onWillNavigate(listener: (event: Preventable, url: string) => void): void
  onWillRedirect(listener: (event: Preventable, url: string) => void): void
  onWillAttachWebview(listener: (event: Preventable) => void): void
  /** A new document starts loading in the main frame (a reload): the renderer must say ready again. */
  onMainFrameNavigation(listener: () => void): void
}

export interface WindowOptions {
  width: number
  height: number
  minWidth: number
  minHeight: number
  show: boolean
  title: string
  icon?: string
  backgroundColor: string
  webPreferences: {
    preload: string
    sandbox: true
    contextIsolation: true
    nodeIntegration: false
    nodeIntegrationInSubFrames: false
    webviewTag: false
    webSecurity: true
    allowRunningInsecureContent: false
    experimentalFeatures: false
    navigateOnDragDrop: false
    spellcheck: boolean
  }
}

export interface WindowPort {
  readonly webContents: WebContentsPort
  loadURL(url: string): Promise<void>
  show(): void
  hide(): void
  focus(): void
  restore(): void
  isMinimized(): boolean
  isVisible(): boolean
  isDestroyed(): boolean
  onClose(listener: (event: Preventable) => void): void
  onReadyToShow(listener: () => void): void
}

export interface IpcMainPort {
  handle(channel: string, handler: (sender: IpcSender, arg: unknown) => Promise<unknown>): void
  removeHandler(channel: string): void
  on(channel: string, listener: (sender: IpcSender, arg: unknown) => void): void
  removeAllListeners(channel: string): void
}

/** A menu entry; `click` is wired by the adapter to Electron's MenuItem click. */
export interface MenuItemSpec {
  id?: string
  label?: string
  type?: 'normal' | 'separator' | 'checkbox'
  enabled?: boolean
  checked?: boolean
  click?: () => void
}

export interface TrayPort {
  setImage(image: string): void
  setToolTip(text: string): void
  setContextMenu(items: MenuItemSpec[]): void
  onClick(listener: () => void): void
  destroy(): void
}

export interface NotificationPort {
  onClick(listener: () => void): void
  onClose(listener: () => void): void
  show(): void
}

export interface SafeStoragePort {
  isEncryptionAvailable(): boolean
  /** Linux only: which secret store backs it ('basic_text' means no real keychain). */
  getSelectedStorageBackend?(): string
  encryptString(plain: string): Buffer
  decryptString(blob: Buffer): string
}

export interface ProtocolPort {
  /** Must be called before the app is ready. */
  registerPrivilegedScheme(scheme: string): void
  handle(scheme: string, handler: (url: string) => Promise<Response>): void
}

export interface SessionPort {
  /** Answer every permission request (camera, notifications from web, geolocation, …). */
  setPermissionRequestHandler(handler: (permission: string) => boolean): void
  setPermissionCheckHandler(handler: (permission: string) => boolean): void
}

/** Everything the shell needs from Electron. */
export interface ElectronBoundary {
  app: AppPort
  createWindow(options: WindowOptions): WindowPort
  ipcMain: IpcMainPort
  createTray(image: string): TrayPort
  notificationsSupported(): boolean
  createNotification(options: { title: string; body: string }): NotificationPort
  safeStorage: SafeStoragePort
  shell: { openExternal(url: string): Promise<void> }
  clipboard: { writeText(text: string): void }
  protocol: ProtocolPort
  /** The default session (after ready). */
  session(): SessionPort
}
