import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Engine } from '../core/engine'
import { ApiError } from '../shared/contract'

/**
 * A client this far behind (a few thousand changes) is dropped; it reconnects and refetches rather than holding
 * memory. The process holds about 2.6 times the buffered bytes (measured), so this stays small.
 */
const MAX_BUFFERED_BYTES = 2 * 1024 * 1024
/** Open streams at most (tabs, windows, scripts): each may hold MAX_BUFFERED_BYTES while it lags. */
export const MAX_STREAMS = 32
const HEARTBEAT_MS = 15_000

/** `GET /api/stream`: Server-Sent Events, one `data:` message per engine Change. */
export function openChangeStream(
  req: IncomingMessage,
  res: ServerResponse,
  engine: Engine,
  streams: Set<ServerResponse>,
): void {
  if (streams.size >= MAX_STREAMS) {
    throw new ApiError('unavailable', `too many change streams open (${MAX_STREAMS}); close a tab or window`)
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  })
  res.write('retry: 2000\n: connected\n\n')
  streams.add(res)
  const unsubscribe = engine.changes.subscribe((change) => {
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      res.destroy()
      return
    }
    res.write(`data: ${JSON.stringify(change)}\n\n`)
  })
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS)
  heartbeat.unref()
  const close = () => {
    clearInterval(heartbeat)
    unsubscribe()
    streams.delete(res)
  }
  req.on('close', close)
  res.on('close', close)
}
