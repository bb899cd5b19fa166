import { createEngine, type Engine, type EngineConfig } from '../../src/core/engine'
import { tempDir } from './temp-dir'

export interface TestEngine {
  engine: Engine
  dataDir: string
  url: string
  /** Stop the engine and remove its data folder. */
  close(): Promise<void>
}

/** A real engine on a fresh data folder with the receiver on a free loopback port and no tunnel. */
export async function startTestEngine(overrides: Partial<EngineConfig> = {}): Promise<TestEngine> {
  const dir = tempDir()
  const engine = createEngine({
    dataDir: dir.path,
    receiver: { port: 0, host: '127.0.0.1' },
    tunnel: { mode: 'off' },
    ...overrides,
  })
  const { receiverUrl } = await engine.start()
  return {
    engine,
    dataDir: dir.path,
    url: receiverUrl,
    close: async () => {
      await engine.stop()
      dir.remove()
    },
  }
}
