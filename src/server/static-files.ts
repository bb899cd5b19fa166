import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import type { ServerResponse } from 'node:http'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
}

/** The UI's Content-Security-Policy: its own scripts only, the API on the same origin. */
export const UI_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

/**
 * Serve a file of the built renderer. Unknown paths without an extension get index.html (client-side routes).
 * Returns false when there is nothing to serve.
 */
export async function serveStatic(root: string, pathname: string, res: ServerResponse): Promise<boolean> {
  let relative: string
  try {
    relative = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '')
  } catch {
    return false
  }
  if (relative.split(sep).includes('..')) return false
  let file = join(root, relative || 'index.html')
  let info = await stat(file).catch(() => null)
  if (!info?.isFile()) {
    if (extname(relative)) return false
    file = join(root, 'index.html')
    info = await stat(file).catch(() => null)
    if (!info?.isFile()) return false
  }
  const type = TYPES[extname(file)] ?? 'application/octet-stream'
  res.writeHead(200, {
    'content-type': type,
    'content-length': info.size,
    'content-security-policy': UI_CSP,
    'cache-control': file.endsWith('index.html') ? 'no-store' : 'public, max-age=31536000, immutable',
  })
  createReadStream(file).pipe(res)
  return true
}
