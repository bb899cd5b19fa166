import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { IncomingMessage } from 'node:http'

export const SESSION_COOKIE = 'sb_session'

/**
 * The control API token: `SWITCHBOARD_API_TOKEN` when set, else generated once and kept in
 * `<dataDir>/api-token` with mode 0600.
 */
export function loadApiToken(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.SWITCHBOARD_API_TOKEN) return env.SWITCHBOARD_API_TOKEN
  const file = join(dataDir, 'api-token')
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim()
    if (token) return token
  }
  const token = randomBytes(24).toString('base64url')
  writeFileSync(file, token + '\n', { mode: 0o600 })
  chmodSync(file, 0o600)
  return token
}

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** The session cookie's value: derived from the token, so it survives a restart and dies with a new token. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('switchboard session v1').digest('base64url')
}

export type Credential = 'bearer' | 'cookie' | null

/** Which credential the request carries, if a valid one. */
export function authenticate(req: IncomingMessage, token: string): Credential {
  const header = req.headers.authorization
  if (header?.startsWith('Bearer ') && safeEqual(header.slice(7).trim(), token)) return 'bearer'
  const cookie = readCookie(req.headers.cookie, SESSION_COOKIE)
  if (cookie && safeEqual(cookie, sessionValue(token))) return 'cookie'
  return null
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return null
}

/**
 * The origins this server answers as: loopback names with its own port. A Host header naming anything else is
 * refused (DNS rebinding), and a cookie-authenticated change must carry one of these as its Origin (CSRF).
 */
export function loopbackOrigins(port: number): Set<string> {
  return new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`])
}

export function hostAllowed(host: string | undefined, port: number): boolean {
  if (!host) return false
  return loopbackOrigins(port).has(`http://${host.toLowerCase()}`)
}
