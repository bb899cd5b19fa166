import { createServer, type Server } from 'node:net'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine, type EngineConfig } from '../../src/core/engine'
import { OPERATION_NAMES, parseInput } from '../../src/shared/contract'
import type { ApiError, Change } from '../../src/shared/contract'
import type { RunSummary } from '../../src/shared/domain'
import {
  channelFor,
  PUSH_ACK_CHANNEL,
  PUSH_CHANNEL,
  READY_CHANNEL,
  type PushBatch,
} from '../../src/shared/ipc'
import { registerSchemes, runDesktopApp, type DesktopApp } from '../../src/main/desktop-app'
import { DEFAULT_PUSH_BACKLOG } from '../../src/main/push-queue'
import { http } from '../support/http'
import { tempDir } from '../support/temp-dir'
import { FakeElectron, type FakeWindow } from './fake-electron'

interface Launched {
  electron: FakeElectron
  app: DesktopApp
  engine: Engine
  window: FakeWindow
  calls: string[]
  logs: string[]
  printed: string[]
  invoke(op: string, arg?: unknown): Promise<unknown>
}

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

async function launch(
  overrides: { receiver?: EngineConfig['receiver']; platform?: NodeJS.Platform; userDataDir?: string } = {},
): Promise<Launched> {
  const dir = tempDir('switchboard-desktop-')
  const rendererDir = join(dir.path, 'renderer')
  mkdirSync(rendererDir)
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><div id="root">feed</div>')
  const electron = new FakeElectron(join(dir.path, 'user-data'), overrides.platform)
  const calls: string[] = []
  const logs: string[] = []
  const printed: string[] = []
  let engine: Engine | null = null
  registerSchemes(electron)
  electron.becomeReady()
  const app = await runDesktopApp({
    boundary: electron,
    createEngine: (config) => {
      engine = createEngine(config)
      const real = engine
      calls.push('createEngine')
      return {
        call: real.call.bind(real),
        changes: real.changes,
        start: () => real.start(),
        stop: async () => {
          calls.push('engine.stop')
          await real.stop()
        },
      }
    },
    paths: {
      rendererDir,
      preload: '/app/out/preload/index.cjs',
      migrationsDir: join(process.cwd(), 'src/core/store/migrations'),
      windowIcon: '/icons/icon.png',
      trayIcons: { normal: '/icons/tray.png', alert: '/icons/tray-alert.png' },
    },
    ...(overrides.userDataDir ? { userDataDir: overrides.userDataDir } : {}),
    receiver: overrides.receiver ?? { port: 0, host: '127.0.0.1' },
    tunnel: { mode: 'off' },
    log: (level, message) => logs.push(`${level}: ${message}`),
    print: (line) => printed.push(line),
  })
  cleanups.push(async () => {
    if (app) await app.shutdown()
    dir.remove()
  })
  if (!app) throw new Error('app did not start')
  const window = electron.windows[0]!
  return {
    electron,
    app,
    engine: engine!,
    window,
    calls,
    logs,
    printed,
    invoke: (op, arg) => electron.ipcMain.invoke(`switchboard:op:${op}`, electron.senderOf(window), arg),
  }
}

/** Every push message the window was sent, in order, across batches. */
function pushed(window: FakeWindow): unknown[] {
  return batches(window).flatMap((batch) => batch.messages)
}

function batches(window: FakeWindow): PushBatch[] {
  return window.webContents.sent.filter((s) => s.channel === PUSH_CHANNEL).map((s) => s.message as PushBatch)
}

/** The page acknowledges each push batch as it arrives, as a renderer that keeps up does. */
function keepUp(electron: FakeElectron, window: FakeWindow): void {
  window.webContents.onSend = (channel, message) => {
    if (channel === PUSH_CHANNEL) {
      electron.ipcMain.emit(PUSH_ACK_CHANNEL, electron.senderOf(window), (message as PushBatch).seq)
    }
  }
}

/** Pushes made in one turn go out together at its end. */
const turnEnds = () => new Promise((resolve) => setImmediate(resolve))

function run(over: Partial<RunSummary>): RunSummary {
  return {
    id: 'run_1',
    eventId: 'ev_1',
    workflowId: 'wf',
    workflowVersion: 1,
    workflowName: 'Workflow',
    status: 'dead',
    currentStep: 'call',
    error: 'HTTP 500',
    resolvedAt: null,
    createdAt: 1,
    updatedAt: 2,
    finishedAt: 2,
    dryRun: false,
    ...over,
  }
}

describe('desktop app wiring (Electron stubbed at its boundary)', () => {
  it('quits at once when another instance holds the lock, creating nothing', async () => {
    const electron = new FakeElectron(tempDir().path)
    electron.state.lock = false
    electron.becomeReady()
    let created = false
    const app = await runDesktopApp({
      boundary: electron,
      createEngine: () => {
        created = true
        throw new Error('must not be called')
      },
      paths: {
        rendererDir: '/x',
        preload: '/x',
        migrationsDir: '/x',
        windowIcon: '/x',
        trayIcons: { normal: '', alert: '' },
      },
      log: () => {},
      print: () => {},
    })
    expect(app).toBeNull()
    expect(created).toBe(false)
    expect(electron.state.quitCalls).toBe(1)
    expect(electron.windows).toHaveLength(0)
  })

  it('opens one sandboxed, isolated window on app:// with the data folder under userData', async () => {
    const { electron, window, printed, engine } = await launch()
    expect(electron.privilegedSchemes).toEqual(['app'])
    expect(window.options.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
    })
    expect(window.loaded).toEqual(['app://switchboard/index.html'])
    expect(window.visible).toBe(true)
    expect(engine.db.name).toBe(join(electron.userData, 'data', 'switchboard.db'))
    expect(printed[0]).toMatch(/^Switchboard receiver: http:\/\/127\.0\.0\.1:\d+$/)
    const page = await electron.protocolHandlers.get('app')!('app://switchboard/index.html')
    expect(await page.text()).toContain('feed')
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
  })

  it('moves the profile (and so the instance lock and data) when told to', async () => {
    const profile = tempDir('switchboard-profile-')
    cleanups.push(() => profile.remove())
    const { electron, engine } = await launch({ userDataDir: profile.path })
    expect(electron.userDataPath).toBe(profile.path)
    expect(engine.db.name).toBe(join(profile.path, 'data', 'switchboard.db'))
  })

  it('refuses every web permission but clipboard writes', async () => {
    const { electron } = await launch()
    for (const p of ['media', 'geolocation', 'notifications', 'openExternal']) {
      expect(electron.permissionRequest!(p)).toBe(false)
      expect(electron.permissionCheck!(p)).toBe(false)
    }
    expect(electron.permissionRequest!('clipboard-sanitized-write')).toBe(true)
  })

  it('keeps the window on its own origin and sends https links to the browser', async () => {
    const { electron, window } = await launch()
    const contents = window.webContents
    expect(contents.navigate('app://switchboard/runs')).toBe(false)
    expect(contents.navigate('https://docs.example.com/setup')).toBe(true)
    expect(contents.navigate('javascript:alert(1)')).toBe(true)
    expect(contents.navigate('file:///etc/passwd')).toBe(true)
    expect(contents.navigate('http://example.com/')).toBe(true)
    expect(contents.redirect('https://evil.example/')).toBe(true)
    expect(contents.redirect('app://switchboard/index.html')).toBe(false)
    expect(contents.windowOpenHandler!('https://github.com/settings/hooks')).toBe('deny')
    expect(contents.windowOpenHandler!('app://switchboard/index.html')).toBe('deny')
    expect(contents.windowOpenHandler!('data:text/html,x')).toBe('deny')
    expect(contents.attachWebview()).toBe(true)
    await Promise.resolve()
    expect(electron.opened).toEqual(['https://docs.example.com/setup', 'https://github.com/settings/hooks'])
  })

  it('answers every contract operation on its own channel, parsed like the control API', async () => {
    const { electron, invoke } = await launch()
    expect([...electron.ipcMain.handlers.keys()].sort()).toEqual(OPERATION_NAMES.map(channelFor).sort())
    const health = (await invoke('health.get')) as { result: { ok: boolean; version: string } }
    expect(health.result).toMatchObject({ ok: true, version: '9.9.9' })
    const created = (await invoke('sources.create', { name: 'Shop', provider: 'none' })) as {
      result: { id: string }
    }
    const list = (await invoke('sources.list', {})) as { result: { items: Array<{ id: string }> } }
    expect(list.result.items.map((s) => s.id)).toEqual([created.result.id])

    const bad = { name: '', provider: 'carrier-pigeon' }
    let expected: ApiError | null = null
    try {
      parseInput('sources.create', bad)
    } catch (error) {
      expected = error as ApiError
    }
    expect(await invoke('sources.create', bad)).toEqual({ error: expected!.toJSON().error })
    expect(await invoke('sources.get', { id: 'nope' })).toMatchObject({ error: { code: 'not_found' } })
  })

  it('refuses IPC from subframes, foreign pages, gone frames and other WebContents, changing nothing', async () => {
    const { electron, window, invoke } = await launch()
    const channel = channelFor('sources.create')
    const arg = { name: 'Sneaky', provider: 'none' }
    const senders = [
      electron.senderOf(window, 'app://switchboard/index.html', false),
      electron.senderOf(window, 'https://evil.example/'),
      electron.senderOf(window, 'app://switchboard.evil.example/'),
      { frame: null },
      { frame: { url: 'app://switchboard/index.html', isMainFrame: true, webContentsId: 999 } },
    ]
    for (const sender of senders) {
      expect(await electron.ipcMain.invoke(channel, sender, arg)).toEqual({
        error: { code: 'forbidden', message: 'this frame may not call the Switchboard API' },
      })
    }
    expect(await invoke('sources.list')).toEqual({ result: { items: [] } })
  })

  it('holds pushed changes until the renderer is ready, then delivers them in order; a reload holds again', async () => {
    const { electron, window, invoke } = await launch()
    keepUp(electron, window)
    await invoke('sources.create', { id: 'one', name: 'One', provider: 'none' })
    expect(pushed(window)).toEqual([])
    electron.ipcMain.emit(READY_CHANNEL, electron.senderOf(window, 'https://evil.example/'))
    expect(pushed(window)).toEqual([])
    electron.ipcMain.emit(READY_CHANNEL, electron.senderOf(window))
    // Everything held since start-up (the tunnel's initial state, the new source, …), oldest first.
    expect(pushed(window).at(-1)).toMatchObject({ type: 'source', source: { id: 'one' } })

    await invoke('intake.set', { paused: true })
    await turnEnds()
    expect(pushed(window).at(-1)).toEqual({ type: 'intake', paused: true })

    window.webContents.reload()
    const before = pushed(window).length
    await invoke('intake.set', { paused: false })
    await turnEnds()
    expect(pushed(window)).toHaveLength(before)
    electron.ipcMain.emit(READY_CHANNEL, electron.senderOf(window))
    expect(pushed(window).at(-1)).toEqual({ type: 'intake', paused: false })
  })

  it('pushes a webhook to the window as it arrives', async () => {
    const { electron, window, invoke, printed } = await launch()
    keepUp(electron, window)
    electron.ipcMain.emit(READY_CHANNEL, electron.senderOf(window))
    await invoke('sources.create', { id: 'hooks', name: 'Hooks', provider: 'none' })
    const receiver = printed[0]!.replace('Switchboard receiver: ', '')
    const res = await http(`${receiver}/hooks/hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'order.placed' }),
    })
    expect(res.status).toBe(200)
    const id = (res.json as { id: string }).id
    await turnEnds()
    expect(pushed(window)).toContainEqual(
      expect.objectContaining({
        type: 'event',
        event: expect.objectContaining({ id, type: 'order.placed' }),
      }),
    )
  })

  it('sends the next push batch only once the page handled the last; a page that fell behind is told to resync', async () => {
    const { electron, window, engine, app } = await launch()
    const page = electron.senderOf(window)
    const acknowledge = (seq: number, from = page) => electron.ipcMain.emit(PUSH_ACK_CHANNEL, from, seq)
    electron.ipcMain.emit(READY_CHANNEL, page)
    for (const batch of batches(window)) acknowledge(batch.seq)
    const deleted = (id: string): Change => ({ type: 'workflow-deleted', id })

    // A burst in one turn is one IPC message.
    const sentBefore = batches(window).length
    engine.changes.emit(deleted('a'))
    engine.changes.emit(deleted('b'))
    await turnEnds()
    expect(
      batches(window)
        .slice(sentBefore)
        .map((b) => b.messages),
    ).toEqual([[deleted('a'), deleted('b')]])

    // Not acknowledged: later changes wait, whoever else claims to have handled the batch.
    const waiting = batches(window).at(-1)!
    engine.changes.emit(deleted('c'))
    await turnEnds()
    acknowledge(waiting.seq, electron.senderOf(window, 'https://evil.example/'))
    acknowledge(waiting.seq + 1)
    expect(batches(window).at(-1)).toBe(waiting)
    acknowledge(waiting.seq)
    expect(batches(window).at(-1)!.messages).toEqual([deleted('c')])

    // A page that handles nothing holds at most the backlog limit here, then is told to reload its lists.
    for (let i = 0; i < DEFAULT_PUSH_BACKLOG + 10; i++) engine.changes.emit(deleted(`w${i}`))
    await turnEnds()
    expect(app.pushes.backlog).toBeLessThanOrEqual(DEFAULT_PUSH_BACKLOG)
    acknowledge(batches(window).at(-1)!.seq)
    // The changes dropped are covered by the reload; those after the drop follow it.
    expect(batches(window).at(-1)!.messages).toEqual([
      { type: 'resync' },
      ...Array.from({ length: 10 }, (_, i) => deleted(`w${DEFAULT_PUSH_BACKLOG + i}`)),
    ])
  })

  it('shows notify steps and open alerts natively; a click opens the event in the inspector', async () => {
    const { electron, window, engine } = await launch()
    keepUp(electron, window)
    electron.ipcMain.emit(READY_CHANNEL, electron.senderOf(window))
    window.hide()
    const note: Change = {
      type: 'notification',
      notification: {
        id: 'n1',
        at: 1,
        title: 'Order 42 shipped',
        body: 'via 3PL',
        runId: 'run_1',
        eventId: 'ev_9',
      },
    }
    engine.changes.emit(note)
    expect(electron.notifications.map((n) => n.options)).toEqual([
      { title: 'Order 42 shipped', body: 'via 3PL' },
    ])
    expect(electron.notifications[0]!.shown).toBe(true)
    electron.notifications[0]!.click()
    expect(window.visible).toBe(true)
    await turnEnds()
    expect(pushed(window).at(-1)).toEqual({ type: 'navigate', target: { view: 'event', eventId: 'ev_9' } })

    const alert = {
      id: 'al_1',
      rule: 'tunnel-down',
      sourceId: null,
      severity: 'critical' as const,
      title: 'Tunnel down',
      message: 'Webhooks cannot reach you',
      openedAt: 1,
      resolvedAt: null,
      data: {},
    }
    engine.changes.emit({ type: 'alert', alert })
    engine.changes.emit({ type: 'alert', alert: { ...alert, resolvedAt: 2 } })
    expect(electron.notifications.map((n) => n.options.title)).toEqual(['Order 42 shipped', 'Tunnel down'])
    electron.notifications[1]!.click()
    await turnEnds()
    expect(pushed(window).at(-1)).toEqual({ type: 'navigate', target: { view: 'alerts', alertId: 'al_1' } })
  })

  it('shows the tunnel, intake and unresolved failures in the tray, and pauses intake from it', async () => {
    const { electron, engine } = await launch()
    const tray = electron.trays[0]!
    // The tunnel is off in these tests; "unknown" while the engine offers no tunnel.get yet.
    const tunnelKnown = await engine.call('tunnel.get', {}).then(
      () => true,
      () => false,
    )
    expect(tray.labels()).toContain(tunnelKnown ? 'Tunnel: off' : 'Tunnel: unknown')
    expect(tray.labels()).toContain('No unresolved failures')
    expect(tray.item('copy-url').enabled).toBe(false)
    expect(tray.image).toBe('/icons/tray.png')

    engine.changes.emit({ type: 'run', run: run({ id: 'r1' }) })
    engine.changes.emit({ type: 'run', run: run({ id: 'r2' }) })
    engine.changes.emit({ type: 'run', run: run({ id: 'r3', dryRun: true }) })
    expect(tray.labels()).toContain('2 unresolved failures')
    expect(tray.image).toBe('/icons/tray-alert.png')
    engine.changes.emit({ type: 'run', run: run({ id: 'r1', resolvedAt: 5 }) })
    engine.changes.emit({ type: 'run', run: run({ id: 'r2', status: 'queued' }) })
    expect(tray.labels()).toContain('No unresolved failures')

    tray.item('toggle-intake').click!()
    await expect.poll(async () => (await engine.call('intake.get', {})).paused).toBe(true)
    expect(tray.item('toggle-intake').label).toBe('Resume intake')
    expect(tray.tooltip).toContain('intake paused')

    engine.changes.emit({
      type: 'tunnel',
      tunnel: {
        state: 'online',
        mode: 'tunnel',
        url: 'https://quiet-fox.loca.lt',
        host: null,
        subdomain: null,
        error: null,
        lastProbeAt: null,
        lastProbeOk: null,
        history: [],
      },
    })
    expect(tray.labels()).toContain('Tunnel: online')
    tray.item('copy-url').click!()
    expect(electron.copied).toEqual(['https://quiet-fox.loca.lt'])

    tray.item('toggle-login').click!()
    expect(electron.state.openAtLogin).toBe(true)
    expect(tray.item('toggle-login').checked).toBe(true)
  })

  it('offers no launch-at-login item where the OS has none (Linux)', async () => {
    const { electron } = await launch({ platform: 'linux' })
    expect(electron.trays[0]!.menu.some((i) => i.id === 'toggle-login')).toBe(false)
  })

  it('seals secrets with the OS keychain', async () => {
    const { engine, invoke } = await launch()
    await invoke('sources.create', {
      id: 'gh',
      name: 'GitHub',
      provider: 'github',
      secret: 'hunter2-very-secret',
    })
    const row = engine.db.prepare('SELECT secret_enc FROM sources WHERE id = ?').get('gh') as {
      secret_enc: Buffer
    }
    expect(row.secret_enc[0]).toBe(2)
    expect(row.secret_enc.subarray(1).toString('utf8')).toMatch(/^KEYCHAIN:/)
  })

  it('hides to the tray on close; a second launch brings the window back', async () => {
    const { electron, window } = await launch()
    expect(window.close()).toBe(false)
    expect(window.visible).toBe(false)
    electron.emitApp('second-instance')
    expect(window.visible).toBe(true)
  })

  it('on quit removes the tray and the IPC handlers, then stops the engine (store closed) exactly once', async () => {
    const { electron, engine, calls, window } = await launch()
    const tray = electron.trays[0]!
    tray.item('quit').click!()
    expect(electron.quitted).toBe(false)
    await expect.poll(() => electron.quitted).toBe(true)
    expect(calls).toEqual(['createEngine', 'engine.stop'])
    expect(tray.destroyed).toBe(true)
    expect(engine.db.open).toBe(false)
    expect(electron.ipcMain.handlers.size).toBe(0)
    expect(window.close()).toBe(true)
    electron.app.quit()
    expect(calls.filter((c) => c === 'engine.stop')).toHaveLength(1)
  })

  it('says why and exits when the engine cannot start', async () => {
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())))
    const port = (blocker.address() as { port: number }).port
    const dir = tempDir('switchboard-desktop-')
    cleanups.push(() => dir.remove())
    const electron = new FakeElectron(dir.path)
    electron.becomeReady()
    const app = await runDesktopApp({
      boundary: electron,
      createEngine,
      paths: {
        rendererDir: dir.path,
        preload: '/p',
        migrationsDir: join(process.cwd(), 'src/core/store/migrations'),
        windowIcon: '/i',
        trayIcons: { normal: '/t', alert: '/a' },
      },
      receiver: { port, host: '127.0.0.1' },
      tunnel: { mode: 'off' },
      log: () => {},
      print: () => {},
    })
    expect(app).toBeNull()
    expect(electron.state.errorBoxes[0]?.title).toBe('Switchboard could not start')
    expect(electron.state.exitCode).toBe(1)
    expect(electron.windows).toHaveLength(0)
  })
})
