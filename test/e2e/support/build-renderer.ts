/**
 * Vitest globalSetup for the e2e project: the headless server serves the built UI from out/renderer, so build
 * it when it is missing or older than the renderer's (or the shared contract's) sources.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../../..')
const BUILT = join(ROOT, 'out/renderer/index.html')

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

export default function setup(): void {
  const sources = Math.max(newestMtime(join(ROOT, 'src/renderer')), newestMtime(join(ROOT, 'src/shared')))
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= sources) return
  const result = spawnSync(join(ROOT, 'node_modules/.bin/electron-vite'), ['build'], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 300_000,
  })
  if (result.status !== 0 || !existsSync(BUILT)) {
    throw new Error(`building the renderer failed (electron-vite build exited ${result.status})`)
  }
}
