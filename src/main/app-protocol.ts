import { readFile, stat } from 'node:fs/promises'
import { extname, join, relative, isAbsolute, sep } from 'node:path'
import { parseStrictUrl } from './url-text'

/** The privileged scheme the built renderer is served from (never file://). */
export const APP_SCHEME = 'app'
export const APP_HOST = 'switchboard'
/** The app's own origin: the only one the window may show and the only one the IPC gateway answers. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`

/**
 * The Content-Security-Policy every app:// response carries. Scripts only from the app itself; no eval, no
 * plugins, no framing, no form posts; the renderer talks to the engine over IPC, so nothing to connect to.
 * Inline style attributes stay allowed (the chart and virtual list position elements with them).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
].join('; ')

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
}

/** A request for an app:// URL resolved to a file inside the renderer folder. */
export interface AppAsset {
  file: string
  contentType: string
}

/**
 * Map an `app://switchboard/...` URL to a file inside `rootDir` (the built renderer), or null when the URL is
 * not ours or tries to leave the folder (`..`, encoded slashes or backslashes, NUL). A path without an
 * extension is a client-side route and gets `index.html`.
 */
export function resolveAppAsset(rawUrl: unknown, rootDir: string): AppAsset | null {
  const url = parseStrictUrl(rawUrl)
  if (!url || url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null
  let path: string
  try {
    path = decodeURIComponent(url.pathname)
  } catch {
    return null
  }
  if (path.includes('\0') || path.includes('\\')) return null
  const segments = path.split('/').filter((s) => s !== '')
  if (segments.some((s) => s === '..' || s === '.' || s.includes(':'))) return null
  const last = segments.at(-1)
  if (!last || extname(last) === '') segments.splice(0, segments.length, 'index.html')
  const file = join(rootDir, ...segments)
  const rel = relative(rootDir, file)
  if (rel === '' || rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) return null
  const contentType = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
  return { file, contentType }
}

/** Headers every app:// response carries. */
export function appResponseHeaders(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
  }
}

/** Answer one app:// request from `rootDir`: the file with the app headers, or 404. Never reads outside it. */
export async function serveAppRequest(rawUrl: string, rootDir: string): Promise<Response> {
  const asset = resolveAppAsset(rawUrl, rootDir)
  if (asset) {
    try {
      const info = await stat(asset.file)
      if (info.isFile()) {
        return new Response(new Uint8Array(await readFile(asset.file)), {
          status: 200,
          headers: appResponseHeaders(asset.contentType),
        })
      }
    } catch {
      // Missing file: fall through to 404.
    }
  }
  return new Response('Not found', { status: 404, headers: appResponseHeaders('text/plain; charset=utf-8') })
}
