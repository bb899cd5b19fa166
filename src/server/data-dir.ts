import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * Where Switchboard keeps its data when no --data-dir is given: SWITCHBOARD_DATA_DIR, else the platform's
 * app-data folder (the same one the desktop app uses as its user-data path).
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.SWITCHBOARD_DATA_DIR) return env.SWITCHBOARD_DATA_DIR
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Switchboard')
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Switchboard')
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'Switchboard')
}
