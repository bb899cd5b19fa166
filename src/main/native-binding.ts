import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** File names the native build step writes into its output folder. */
export const NATIVE_ADDON_FILE = 'better_sqlite3.node'
export const NATIVE_MANIFEST_FILE = 'manifest.json'

/** The outcome of looking for the Electron-ABI better-sqlite3 build. */
export type NativeBindingChoice = { path: string } | { path: undefined; reason: string }

/**
 * Pick the better-sqlite3 addon built for this Electron (by `scripts/build-electron-native.mjs`) from `dir`:
 * used only when its manifest names exactly the running Electron version, since an addon built for another
 * ABI would crash the load. Otherwise `path` is undefined and `reason` says why (the app then tries the
 * package's own build, which works when it was rebuilt for Electron).
 */
export function pickNativeBinding(dir: string, electronVersion: string | undefined): NativeBindingChoice {
  const addon = join(dir, NATIVE_ADDON_FILE)
  if (!existsSync(addon))
    return { path: undefined, reason: `no Electron build of better-sqlite3 at ${addon}` }
  let manifest: unknown
  try {
    manifest = JSON.parse(readFileSync(join(dir, NATIVE_MANIFEST_FILE), 'utf8'))
  } catch {
    return { path: undefined, reason: `${join(dir, NATIVE_MANIFEST_FILE)} is missing or unreadable` }
  }
  const builtFor = (manifest as { electron?: unknown } | null)?.electron
  if (typeof builtFor !== 'string' || builtFor !== electronVersion) {
    return {
      path: undefined,
      reason: `the Electron build of better-sqlite3 is for Electron ${String(builtFor)}, this is ${String(electronVersion)}`,
    }
  }
  return { path: addon }
}
