import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createEngine, type Engine, type EngineConfig } from '../core/engine'
import { loadApiToken } from './auth'
import { ControlApi } from './control-api'
import { exportRoute } from './export-route'
import { prometheusRoute } from './prometheus-route'

export interface HeadlessOptions {
  engine: EngineConfig
  apiPort: number
  /** Built renderer folder; defaults to out/renderer when it exists. */
  rendererDir?: string | null
}

export interface Headless {
  engine: Engine
  token: string
  receiverUrl: string
  apiUrl: string
  loginUrl: string
  stop(): Promise<void>
}

export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../out/renderer', import.meta.url))

/** The headless server: the engine plus the control API (and the UI) on loopback. */
export async function startHeadless(options: HeadlessOptions): Promise<Headless> {
  const engine = createEngine(options.engine)
  const token = loadApiToken(options.engine.dataDir)
  const rendererDir =
    options.rendererDir !== undefined
      ? options.rendererDir
      : existsSync(DEFAULT_RENDERER_DIR)
        ? DEFAULT_RENDERER_DIR
        : null
  const api = new ControlApi({
    engine,
    token,
    rendererDir,
    extraRoutes: [exportRoute(engine), prometheusRoute(engine)],
  })
  const { receiverUrl } = await engine.start()
  let address
  try {
    address = await api.listen(options.apiPort)
  } catch (error) {
    await engine.stop()
    throw error
  }
  const apiUrl = `http://127.0.0.1:${address.port}`
  let stopping: Promise<void> | null = null
  return {
    engine,
    token,
    receiverUrl,
    apiUrl,
    loginUrl: `${apiUrl}/login?token=${encodeURIComponent(token)}`,
    stop: () =>
      (stopping ??= (async () => {
        await engine.stop()
        await api.close()
      })()),
  }
}
