import { describe, expect, it } from 'vitest'
import { APP_ORIGIN } from '../../src/main/app-protocol'
import { safeExternalUrl } from '../../src/main/external-links'
import { decideNavigation, isAppUrl } from '../../src/main/navigation-policy'
import { permissionAllowed } from '../../src/main/permission-policy'
import { isTrustedSender, type SenderFrame } from '../../src/main/sender-policy'

const origins = [APP_ORIGIN]

/** URLs no policy may ever treat as the app or as a safe external link. */
const alwaysHostile: unknown[] = [
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  ' javascript:alert(1)',
  'java\tscript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  'file:///etc/passwd',
  'file://switchboard/index.html',
  'vbscript:msgbox(1)',
  'blob:app://switchboard/6c4a',
  'about:blank',
  'chrome://settings',
  'devtools://devtools/bundled/inspector.html',
  'view-source:app://switchboard/index.html',
  '',
  '   ',
  'not a url',
  '//evil.example/x',
  '/index.html',
  null,
  undefined,
  42,
  {},
  ['https://example.com'],
  { toString: () => 'https://example.com' },
]

describe('navigation policy', () => {
  it('lets the window load the app origin', () => {
    expect(isAppUrl('app://switchboard/index.html', origins)).toBe(true)
    expect(isAppUrl('app://switchboard/', origins)).toBe(true)
    expect(isAppUrl('app://switchboard/events/ev_1?tab=body#raw', origins)).toBe(true)
    expect(decideNavigation('app://switchboard/index.html', origins)).toEqual({ action: 'allow' })
  })

  it.each(alwaysHostile)('refuses %j', (url) => {
    expect(isAppUrl(url, origins)).toBe(false)
    expect(decideNavigation(url, origins)).toEqual({ action: 'deny' })
  })

  it.each([
    'app://switchboard.evil.example/index.html',
    'app://evil.example/switchboard/index.html',
    'app://switchboard@evil.example/',
    'app://user:pass@switchboard/',
    'app://switchboard:8080/',
    'app://SWITCHBOARD/index.html',
    'app://switchbоard/index.html', // Cyrillic "о"
    'app://switch%62oard/',
    'app://switchboard%00/',
    'app://switchboard\u200b/',
    'app://\u202eswitchboard/',
    'app:switchboard/index.html',
    'app:///switchboard/index.html',
    'apps://switchboard/',
    'http://switchboard/',
    'https://switchboard/',
  ])('treats look-alike %j as foreign', (url) => {
    expect(isAppUrl(url, origins)).toBe(false)
  })

  it('opens an https link elsewhere in the browser instead of in the window', () => {
    expect(decideNavigation('https://docs.github.com/webhooks', origins)).toEqual({
      action: 'open-external',
      url: 'https://docs.github.com/webhooks',
    })
  })

  it('refuses plain http links outright', () => {
    expect(decideNavigation('http://example.com/', origins)).toEqual({ action: 'deny' })
  })

  it('accepts the dev server origin only when it is configured', () => {
    expect(isAppUrl('http://localhost:5173/', origins)).toBe(false)
    expect(isAppUrl('http://localhost:5173/src/main.tsx', [...origins, 'http://localhost:5173'])).toBe(true)
    expect(isAppUrl('http://localhost:5174/', [...origins, 'http://localhost:5173'])).toBe(false)
    expect(isAppUrl('http://localhost.evil.example:5173/', [...origins, 'http://localhost:5173'])).toBe(false)
  })

  it('refuses absurdly long URLs instead of truncating them', () => {
    expect(isAppUrl(`app://switchboard/${'a'.repeat(9000)}`, origins)).toBe(false)
  })
})

describe('external links', () => {
  it('opens https URLs, normalized to the text that was checked', () => {
    expect(safeExternalUrl('https://example.com/a?b=c#d')).toBe('https://example.com/a?b=c#d')
    expect(safeExternalUrl('HTTPS://Example.COM')).toBe('https://example.com/')
  })

  it('hands international host names over in punycode', () => {
    expect(safeExternalUrl('https://аpple.com/')).toBe('https://xn--pple-43d.com/')
  })

  it.each([
    ...alwaysHostile,
    'http://example.com/',
    'ftp://example.com/',
    'ws://example.com/',
    'wss://example.com/',
    'mailto:someone@example.com',
    'ssh://example.com',
    'app://switchboard/index.html',
    'https://user:pw@example.com/',
    'https://example.com@evil.example/',
    'https://@evil.example/',
    'https://localhost/',
    'https://[::1]/',
    'https:/example.com',
    'https://',
    'https://example.com./',
    'https://exa mple.com/',
    'https://example.com/\u0000',
    'https://example.com/%0a\nSet-Cookie:x',
    '\u202ehttps://moc.elpmaxe',
    `https://example.com/${'a'.repeat(9000)}`,
  ])('refuses %j', (url) => {
    expect(safeExternalUrl(url)).toBeNull()
  })
})

describe('sender policy', () => {
  const trust = { webContentsIds: new Set([7]), origins }
  const frame = (over: Partial<SenderFrame> = {}): SenderFrame => ({
    url: 'app://switchboard/index.html',
    isMainFrame: true,
    webContentsId: 7,
    ...over,
  })

  it("answers the app window's main frame on the app origin", () => {
    expect(isTrustedSender(frame(), trust)).toBe(true)
    expect(isTrustedSender(frame({ url: 'app://switchboard/runs?status=dead' }), trust)).toBe(true)
  })

  it('refuses a frame that is gone (navigated away or destroyed)', () => {
    expect(isTrustedSender(null, trust)).toBe(false)
    expect(isTrustedSender(undefined, trust)).toBe(false)
  })

  it('refuses subframes, even on the app origin', () => {
    expect(isTrustedSender(frame({ isMainFrame: false }), trust)).toBe(false)
  })

  it('refuses other WebContents (devtools, a stray window)', () => {
    expect(isTrustedSender(frame({ webContentsId: 8 }), trust)).toBe(false)
    expect(isTrustedSender(frame({ webContentsId: Number.NaN }), trust)).toBe(false)
  })

  it.each([
    'about:blank',
    'null',
    'data:text/html,<h1>x</h1>',
    'file:///home/u/evil.html',
    'https://evil.example/',
    'http://localhost:5173/',
    'app://switchboard.evil.example/',
    'app://switchboard@evil.example/',
    'app://SWITCHBOARD/',
    'chrome-error://chromewebdata/',
    '',
  ])('refuses the main frame when it shows %j', (url) => {
    expect(isTrustedSender(frame({ url }), trust)).toBe(false)
  })

  it('refuses malformed sender records', () => {
    expect(
      isTrustedSender({ url: 'app://switchboard/', isMainFrame: 'yes', webContentsId: 7 } as never, trust),
    ).toBe(false)
    expect(isTrustedSender('app://switchboard/' as never, trust)).toBe(false)
  })
})

describe('permission policy', () => {
  it.each([
    'media',
    'geolocation',
    'notifications',
    'midiSysex',
    'openExternal',
    'hid',
    'serial',
    'usb',
    'unknown',
  ])('refuses %s', (permission) => {
    expect(permissionAllowed(permission)).toBe(false)
  })

  it('allows writing to the clipboard (copy URL buttons)', () => {
    expect(permissionAllowed('clipboard-sanitized-write')).toBe(true)
    expect(permissionAllowed('clipboard-read')).toBe(false)
    expect(permissionAllowed(undefined)).toBe(false)
  })
})
