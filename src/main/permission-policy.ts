/**
 * Web permissions the app's own page may use. Everything else (camera, microphone, geolocation, web
 * notifications, MIDI, HID, serial, pointer lock, …) is refused: the UI needs none of it, and native
 * notifications come from the main process.
 */
const ALLOWED = new Set(['clipboard-sanitized-write'])

/** Whether a permission request or check is granted. */
export function permissionAllowed(permission: unknown): boolean {
  return typeof permission === 'string' && ALLOWED.has(permission)
}
