import type { EngineConfig } from '../core/engine'

/** Start-up overrides the desktop app reads from its environment (used by the smoke test and by power users). */
export interface DesktopEnv {
  userDataDir?: string
  dataDir?: string
  receiver?: EngineConfig['receiver']
  tunnel?: EngineConfig['tunnel']
  devServerUrl?: string
}

/**
 * Read `SWITCHBOARD_USER_DATA_DIR` (Electron's own profile folder, so a test instance never meets the
 * user's running app), `SWITCHBOARD_DATA_DIR`, `SWITCHBOARD_PORT` (receiver port; 0 picks a free one), `SWITCHBOARD_TUNNEL=off`
 * and electron-vite's `ELECTRON_RENDERER_URL`. Throws naming the variable when a value is malformed.
 */
export function readDesktopEnv(env: Record<string, string | undefined>): DesktopEnv {
  const result: DesktopEnv = {}
  if (env.SWITCHBOARD_USER_DATA_DIR) result.userDataDir = env.SWITCHBOARD_USER_DATA_DIR
  if (env.SWITCHBOARD_DATA_DIR) result.dataDir = env.SWITCHBOARD_DATA_DIR
  if (env.SWITCHBOARD_PORT !== undefined && env.SWITCHBOARD_PORT !== '') {
    const port = Number(env.SWITCHBOARD_PORT)
    if (!/^\d{1,5}$/.test(env.SWITCHBOARD_PORT) || port > 65535) {
      throw new Error(
        `SWITCHBOARD_PORT must be a port number (0-65535), got ${JSON.stringify(env.SWITCHBOARD_PORT)}`,
      )
    }
    result.receiver = { port }
  }
  if (env.SWITCHBOARD_TUNNEL !== undefined && env.SWITCHBOARD_TUNNEL !== '') {
    if (env.SWITCHBOARD_TUNNEL !== 'off') {
      throw new Error(`SWITCHBOARD_TUNNEL may only be "off", got ${JSON.stringify(env.SWITCHBOARD_TUNNEL)}`)
    }
    result.tunnel = { mode: 'off' }
  }
  if (env.ELECTRON_RENDERER_URL) result.devServerUrl = env.ELECTRON_RENDERER_URL
  return result
}
