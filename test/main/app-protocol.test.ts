import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY, resolveAppAsset, serveAppRequest } from '../../src/main/app-protocol'
import { tempDir } from '../support/temp-dir'

describe('app:// protocol', () => {
  const dir = tempDir('switchboard-app-protocol-')
  const root = join(dir.path, 'renderer')

  beforeAll(() => {
    mkdirSync(join(root, 'assets'), { recursive: true })
    writeFileSync(join(root, 'index.html'), '<!doctype html><div id="root"></div>')
    writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)')
    writeFileSync(join(dir.path, 'secret.key'), 'do not serve me')
  })
  afterAll(() => dir.remove())

  it('serves the built renderer with the CSP and nosniff', async () => {
    const res = await serveAppRequest('app://switchboard/assets/index-abc.js', root)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('console.log(1)')
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it("keeps scripts to the app's own files", () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'")
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*unsafe/)
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'")
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'")
  })

  it('answers client-side routes with index.html', async () => {
    for (const url of [
      'app://switchboard/',
      'app://switchboard/index.html',
      'app://switchboard/runs/run_1',
    ]) {
      const res = await serveAppRequest(url, root)
      expect(res.status, url).toBe(200)
      expect(await res.text()).toContain('id="root"')
    }
  })

  it('answers 404 for a missing asset', async () => {
    expect((await serveAppRequest('app://switchboard/assets/missing.js', root)).status).toBe(404)
  })

  it.each([
    'app://switchboard/../secret.key',
    'app://switchboard/%2e%2e/secret.key',
    'app://switchboard/%2E%2E/secret.key',
    'app://switchboard/assets/..%2f..%2fsecret.key',
    'app://switchboard/assets/%2e%2e%2f%2e%2e%2fsecret.key',
    'app://switchboard/..%5csecret.key',
    'app://switchboard/assets%5c..%5c..%5csecret.key',
    'app://switchboard/secret.key%00.js',
    'app://switchboard/C:%5cWindows%5cwin.ini',
    'app://switchboard/%252e%252e/secret.key',
    'app://switchboard/%E0%A4%A.js',
    'app://evil/index.html',
    'app://switchboard@evil/index.html',
    'file:///etc/passwd',
    'https://switchboard/index.html',
  ])('never reads outside the renderer folder for %s', async (url) => {
    const asset = resolveAppAsset(url, root)
    if (asset) expect(asset.file.startsWith(root)).toBe(true)
    const res = await serveAppRequest(url, root)
    expect(await res.text()).not.toContain('do not serve me')
  })
})
