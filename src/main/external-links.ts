import { parseStrictUrl } from './url-text'

/**
 * The only URLs the app hands to `shell.openExternal`: absolute `https:` URLs with a real host name and no
 * credentials. Returns the normalized href to open (the exact text that was checked, so the OS sees no other
 * reading of it), or null to refuse. International host names come back in punycode, which browsers show as
 * such, defusing look-alike letters.
 */
export function safeExternalUrl(raw: unknown): string | null {
  const url = parseStrictUrl(raw)
  if (!url || url.protocol !== 'https:') return null
  const host = url.hostname
  if (host === '' || !host.includes('.') || host.endsWith('.')) return null
  return url.href
}
