import { defineConfig } from 'vitest/config'

/** `npm run test:faults`: kill -9 under load, full disk, slowloris, fuzzing. Bounded; talks only to 127.0.0.1. */
export default defineConfig({
  test: {
    name: 'faults',
    environment: 'node',
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
})
