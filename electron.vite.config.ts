import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import type { Plugin } from 'vite'
import react from '@vitejs/plugin-react'

const MIGRATIONS_DIR = resolve(__dirname, 'src/core/store/migrations')
const EVENTS_DIR = resolve(__dirname, 'src/core/events')
/** The search indexer's thread loads these as files, beside the module that starts it (see search-index.ts). */
const SEARCH_WORKER_FILES = ['search-worker.mjs', 'search-file.mjs']

/**
 * Ship what the engine reads as files at runtime beside the main bundle: the numbered SQL migrations
 * (out/main/migrations) and the search worker's modules (out/main).
 */
function copyRuntimeFiles(): Plugin {
  return {
    name: 'switchboard:copy-runtime-files',
    apply: 'build',
    generateBundle() {
      for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{3}-[a-z0-9-]+\.sql$/.test(f))) {
        this.emitFile({
          type: 'asset',
          fileName: `migrations/${file}`,
          source: readFileSync(resolve(MIGRATIONS_DIR, file)),
        })
      }
      for (const file of SEARCH_WORKER_FILES) {
        this.emitFile({ type: 'asset', fileName: file, source: readFileSync(resolve(EVENTS_DIR, file)) })
      }
    },
  }
}

export default defineConfig({
  main: {
    plugins: [copyRuntimeFiles()],
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
