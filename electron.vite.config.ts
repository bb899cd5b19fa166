import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import type { Plugin } from 'vite'
import react from '@vitejs/plugin-react'

const MIGRATIONS_DIR = resolve(__dirname, 'src/core/store/migrations')

/** Ship the numbered SQL migrations beside the main bundle (out/main/migrations): the store reads them at runtime. */
function copyMigrations(): Plugin {
  return {
    name: 'switchboard:copy-migrations',
    apply: 'build',
    generateBundle() {
      for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{3}-[a-z0-9-]+\.sql$/.test(f))) {
        this.emitFile({
          type: 'asset',
          fileName: `migrations/${file}`,
          source: readFileSync(resolve(MIGRATIONS_DIR, file)),
        })
      }
    },
  }
}

export default defineConfig({
  main: {
    plugins: [copyMigrations()],
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/main/index.ts') },
        external: ['better-sqlite3'],
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload can require only `electron`: bundle everything else into one CommonJS file.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    // electron-vite leaves the renderer unminified by default; the UI is also served to browsers, so minify it.
    build: {
      minify: true,
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
    plugins: [react()],
  },
})
