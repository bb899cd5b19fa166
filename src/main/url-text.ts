/** Longest URL any policy in the shell will look at; longer input is refused, not truncated. */
export const MAX_URL_LENGTH = 8192

/** Control characters, whitespace and invisible format characters (zero-width, bidi overrides, BOM). */
const INVISIBLE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0020\u007f-\u009f\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]/

/**
 * Parse a URL the way the policies need it: a string, bounded, free of control characters and whitespace
 * (which the WHATWG parser would silently strip, so the checked text and the used text could differ), and
 * without credentials (`https://app@evil.example` tricks a reader into seeing the wrong host).
 * Returns null for anything else.
 */
export function parseStrictUrl(raw: unknown): URL | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_URL_LENGTH) return null
  if (INVISIBLE.test(raw)) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return null
  }
  if (url.username !== '' || url.password !== '') return null
  if (url.host !== '') {
    // The text must spell the authority the parser read: `scheme://host`, no `@` (even an empty userinfo),
    // no repaired slashes (`https:/host`).
    const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#\\]*)/.exec(raw)
    if (!authority || authority[1]!.includes('@')) return null
  }
  return url
}
