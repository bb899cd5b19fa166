// Runs before `npm run serve`: the headless server serves the built UI, so build it once if it is missing.
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'

if (!existsSync(new URL('../out/renderer/index.html', import.meta.url))) {
  console.log('Building the UI once (out/renderer is missing)…')
  const result = spawnSync('npx', ['electron-vite', 'build'], {
    stdio: 'inherit',
    shell: process.platform === 'win32',
  })
  if (result.status !== 0) {
    console.error('Could not build the UI; the control API still works. Run `npm run build` to see why.')
  }
}
