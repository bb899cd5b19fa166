/** Render components with an app state built on a fake transport (no network, frames advanced by hand). */
import { render } from '@testing-library/react'
import type { ReactElement } from 'react'
import type { Change, OperationName } from '../../src/shared/contract'
import { ApiError } from '../../src/shared/contract'
import type { StreamHandlers, Transport } from '../../src/renderer/src/api/client'
import { AppContext } from '../../src/renderer/src/app-context'
import { createAppState } from '../../src/renderer/src/state/app-state'
import { manualFrames } from './fixtures'

export type Handlers = Partial<Record<OperationName, (args: never) => unknown>>

export function fakeTransport(handlers: Handlers) {
  const calls: Array<{ name: OperationName; args: unknown }> = []
  let stream: StreamHandlers | null = null
  const transport: Transport = {
    kind: 'http',
    async call(name, args) {
      calls.push({ name, args })
      const handler = handlers[name] as ((a: unknown) => unknown) | undefined
      if (!handler) throw new ApiError('not_found', `no fake for ${name}`)
      return (await handler(args)) as never
    },
    subscribe(h) {
      stream = h
      h.onStatus?.('live')
      return () => {
        stream = null
      }
    },
    ready() {},
  }
  return {
    transport,
    calls,
    push(change: Change) {
      stream?.onChange(change)
    },
  }
}

/** What start-up loads, answered empty unless a test says otherwise. */
const EMPTY: Handlers = {
  'events.list': () => ({ items: [], nextCursor: null }),
  'runs.list': () => ({ items: [], nextCursor: null }),
  'sources.list': () => ({ items: [] }),
  'workflows.list': () => ({ items: [] }),
  'providers.list': () => ({ items: [] }),
  'alerts.list': () => ({ items: [] }),
  'intake.get': () => ({ paused: false }),
}

/** Render `ui` inside a started app (subscribed to the fake change stream, start-up loads answered). */
export function renderWithApp(ui: ReactElement, handlers: Handlers) {
  const fake = fakeTransport({ ...EMPTY, ...handlers })
  const frames = manualFrames()
  const app = createAppState(fake.transport, { schedule: frames.schedule, window: null })
  app.start()
  const result = render(<AppContext.Provider value={app}>{ui}</AppContext.Provider>)
  return { ...result, app, fake, frames }
}
