import type {
  AppPort,
  ElectronBoundary,
  IpcSender,
  MenuItemSpec,
  NotificationPort,
  Preventable,
  SafeStoragePort,
  TrayPort,
  WebContentsPort,
  WindowOptions,
  WindowPort,
} from '../../src/main/boundary'

/** A cancellable event, recording whether a listener cancelled it. */
export class FakeEvent implements Preventable {
  defaultPrevented = false
  preventDefault(): void {
    this.defaultPrevented = true
  }
}

export class FakeWebContents implements WebContentsPort {
  destroyed = false
  sent: Array<{ channel: string; message: unknown }> = []
  windowOpenHandler: ((url: string) => 'deny') | null = null
  willNavigate: Array<(event: Preventable, url: string) => void> = []
  willRedirect: Array<(event: Preventable, url: string) => void> = []
  willAttachWebview: Array<(event: Preventable) => void> = []
  mainFrameNavigation: Array<() => void> = []
  /** What the page does with each message main sends it (nothing unless a test says). */
  onSend: ((channel: string, message: unknown) => void) | null = null
  constructor(readonly id: number) {}
  isDestroyed = () => this.destroyed
  send(channel: string, message: unknown): void {
    this.sent.push({ channel, message: structuredClone(message) })
    this.onSend?.(channel, message)
  }
  setWindowOpenHandler(handler: (url: string) => 'deny'): void {
    this.windowOpenHandler = handler
  }
  onWillNavigate(listener: (event: Preventable, url: string) => void): void {
    this.willNavigate.push(listener)
  }
  onWillRedirect(listener: (event: Preventable, url: string) => void): void {
    this.willRedirect.push(listener)
  }
  onWillAttachWebview(listener: (event: Preventable) => void): void {
    this.willAttachWebview.push(listener)
  }
  onMainFrameNavigation(listener: () => void): void {
    this.mainFrameNavigation.push(listener)
  }
  /** Simulate the page trying to navigate; returns whether it was cancelled. */
  navigate(url: string): boolean {
    const event = new FakeEvent()
    for (const l of this.willNavigate) l(event, url)
    return event.defaultPrevented
  }
  redirect(url: string): boolean {
    const event = new FakeEvent()
    for (const l of this.willRedirect) l(event, url)
    return event.defaultPrevented
  }
  attachWebview(): boolean {
    const event = new FakeEvent()
    for (const l of this.willAttachWebview) l(event)
    return event.defaultPrevented
  }
  reload(): void {
    for (const l of this.mainFrameNavigation) l()
  }
}

export class FakeWindow implements WindowPort {
  visible = false
  minimized = false
  destroyed = false
  loaded: string[] = []
  closeListeners: Array<(event: Preventable) => void> = []
  readyListeners: Array<() => void> = []
  constructor(
    readonly options: WindowOptions,
    readonly webContents: FakeWebContents,
  ) {}
  async loadURL(url: string): Promise<void> {
    this.loaded.push(url)
    for (const l of this.readyListeners) l()
  }
  show = () => void (this.visible = true)
  hide = () => void (this.visible = false)
  focus = () => {}
  restore = () => void (this.minimized = false)
  isMinimized = () => this.minimized
  isVisible = () => this.visible
  isDestroyed = () => this.destroyed
  onClose(listener: (event: Preventable) => void): void {
    this.closeListeners.push(listener)
  }
  onReadyToShow(listener: () => void): void {
    this.readyListeners.push(listener)
  }
  /** The user clicks the close button; returns whether the window really closed. */
  close(): boolean {
    const event = new FakeEvent()
    for (const l of this.closeListeners) l(event)
    if (!event.defaultPrevented) this.destroyed = true
    return !event.defaultPrevented
  }
}

export class FakeIpcMain {
  handlers = new Map<string, (sender: IpcSender, arg: unknown) => Promise<unknown>>()
  listeners = new Map<string, Array<(sender: IpcSender, arg: unknown) => void>>()
  handle(channel: string, handler: (sender: IpcSender, arg: unknown) => Promise<unknown>): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`)
    this.handlers.set(channel, handler)
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel)
  }
  on(channel: string, listener: (sender: IpcSender, arg: unknown) => void): void {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener])
  }
  removeAllListeners(channel: string): void {
    this.listeners.delete(channel)
  }
  /** What `ipcRenderer.invoke` would get back, with the argument structured-cloned like real IPC. */
  async invoke(channel: string, sender: IpcSender, arg?: unknown): Promise<unknown> {
    const handler = this.handlers.get(channel)
    if (!handler) throw new Error(`No handler registered for '${channel}'`)
    return structuredClone(await handler(sender, arg === undefined ? undefined : structuredClone(arg)))
  }
  /** What `ipcRenderer.send(channel, arg)` from the sender's frame would deliver. */
  emit(channel: string, sender: IpcSender, arg?: unknown): void {
    for (const l of this.listeners.get(channel) ?? []) l(sender, structuredClone(arg))
  }
}

export class FakeTray implements TrayPort {
  image: string
  tooltip = ''
  menu: MenuItemSpec[] = []
  destroyed = false
  clickListeners: Array<() => void> = []
  constructor(image: string) {
    this.image = image
  }
  setImage = (image: string) => void (this.image = image)
  setToolTip = (text: string) => void (this.tooltip = text)
  setContextMenu = (items: MenuItemSpec[]) => void (this.menu = items)
  onClick = (listener: () => void) => void this.clickListeners.push(listener)
  destroy = () => void (this.destroyed = true)
  item(id: string): MenuItemSpec {
    const found = this.menu.find((i) => i.id === id)
    if (!found) throw new Error(`no tray item ${id} in ${JSON.stringify(this.menu)}`)
    return found
  }
  labels(): string[] {
    return this.menu.filter((i) => i.label).map((i) => i.label!)
  }
}

export class FakeNotification implements NotificationPort {
  shown = false
  clicks: Array<() => void> = []
  closes: Array<() => void> = []
  constructor(readonly options: { title: string; body: string }) {}
  onClick = (l: () => void) => void this.clicks.push(l)
  onClose = (l: () => void) => void this.closes.push(l)
  show = () => void (this.shown = true)
  click(): void {
    for (const l of this.clicks) l()
  }
}

/** A reversible stand-in for the OS keychain (not secure: tests only check the plumbing). */
export class FakeSafeStorage implements SafeStoragePort {
  available = true
  backend: string | undefined = 'gnome_libsecret'
  isEncryptionAvailable = () => this.available
  getSelectedStorageBackend = () => this.backend ?? 'unknown'
  encryptString(plain: string): Buffer {
    return Buffer.from('KEYCHAIN:' + Buffer.from(plain, 'utf8').toString('base64'))
  }
  decryptString(blob: Buffer): string {
    const text = blob.toString('utf8')
    if (!text.startsWith('KEYCHAIN:')) throw new Error('not sealed by this keychain')
    return Buffer.from(text.slice('KEYCHAIN:'.length), 'base64').toString('utf8')
  }
}

export interface FakeAppState {
  quitCalls: number
  exitCode: number | null
  lock: boolean
  openAtLogin: boolean
  errorBoxes: Array<{ title: string; content: string }>
}

/** Electron replaced at its boundary: records what the shell did and lets a test play the user and the OS. */
export class FakeElectron implements ElectronBoundary {
  readonly state: FakeAppState = {
    quitCalls: 0,
    exitCode: null,
    lock: true,
    openAtLogin: false,
    errorBoxes: [],
  }
  readonly appListeners = new Map<string, Array<() => void>>()
  readonly beforeQuit: Array<(event: Preventable) => void> = []
  readonly webContentsCreated: Array<(contents: WebContentsPort) => void> = []
  readonly windows: FakeWindow[] = []
  readonly trays: FakeTray[] = []
  readonly notifications: FakeNotification[] = []
  readonly opened: string[] = []
  readonly copied: string[] = []
  readonly privilegedSchemes: string[] = []
  readonly protocolHandlers = new Map<string, (url: string) => Promise<Response>>()
  permissionRequest: ((permission: string) => boolean) | null = null
  permissionCheck: ((permission: string) => boolean) | null = null
  readonly ipcMain = new FakeIpcMain()
  userDataPath: string
  readonly safeStorage = new FakeSafeStorage()
  private nextId = 1
  private readyResolve!: () => void
  private readonly ready = new Promise<void>((resolve) => (this.readyResolve = resolve))

  constructor(
    readonly userData: string,
    platform: NodeJS.Platform = 'darwin',
  ) {
    this.userDataPath = userData
    const state = this.state
    const ready = this.ready
    const appListeners = this.appListeners
    const beforeQuit = this.beforeQuit
    const webContentsCreated = this.webContentsCreated
    this.app = {
      isPackaged: true,
      platform,
      getPath: () => this.userDataPath,
      setUserDataPath: (path) => void (this.userDataPath = path),
      getAppPath: () => userData,
      getVersion: () => '9.9.9',
      requestSingleInstanceLock: () => state.lock,
      whenReady: () => ready,
      on: (event, listener) => appListeners.set(event, [...(appListeners.get(event) ?? []), listener]),
      onBeforeQuit: (listener) => beforeQuit.push(listener),
      onWebContentsCreated: (listener) => webContentsCreated.push(listener),
      quit: () => this.quit(),
      exit: (code) => void (state.exitCode = code),
      setLoginItemSettings: ({ openAtLogin }) => void (state.openAtLogin = openAtLogin),
      getLoginItemSettings: () => ({ openAtLogin: state.openAtLogin }),
      showErrorBox: (title, content) => void state.errorBoxes.push({ title, content }),
    }
  }

  readonly app: AppPort
  readonly shell = { openExternal: async (url: string) => void this.opened.push(url) }
  readonly clipboard = { writeText: (text: string) => void this.copied.push(text) }
  readonly protocol = {
    registerPrivilegedScheme: (scheme: string) => void this.privilegedSchemes.push(scheme),
    handle: (scheme: string, handler: (url: string) => Promise<Response>) =>
      void this.protocolHandlers.set(scheme, handler),
  }
  session() {
    return {
      setPermissionRequestHandler: (h: (p: string) => boolean) => void (this.permissionRequest = h),
      setPermissionCheckHandler: (h: (p: string) => boolean) => void (this.permissionCheck = h),
    }
  }

  /** The OS says the app is ready. */
  becomeReady(): void {
    this.readyResolve()
  }

  /** What `app.quit()` does: emit before-quit; quit really happens if nobody prevented it. */
  quitted = false
  private quit(): void {
    this.state.quitCalls++
    const event = new FakeEvent()
    for (const l of this.beforeQuit) l(event)
    if (!event.defaultPrevented) this.quitted = true
  }

  emitApp(event: string): void {
    for (const l of this.appListeners.get(event) ?? []) l()
  }

  createWindow(options: WindowOptions): FakeWindow {
    const contents = new FakeWebContents(this.nextId++)
    for (const l of this.webContentsCreated) l(contents)
    const window = new FakeWindow(options, contents)
    this.windows.push(window)
    return window
  }

  createTray(image: string): FakeTray {
    const tray = new FakeTray(image)
    this.trays.push(tray)
    return tray
  }

  notificationsSupported = () => true
  createNotification(options: { title: string; body: string }): FakeNotification {
    const n = new FakeNotification(options)
    this.notifications.push(n)
    return n
  }

  /** A sender as the app's window main frame would appear. */
  senderOf(window: FakeWindow, url = 'app://switchboard/index.html', isMainFrame = true): IpcSender {
    return { frame: { url, isMainFrame, webContentsId: window.webContents.id } }
  }
}
