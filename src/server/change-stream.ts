import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Engine } from '../core/engine'

/** A client this far behind is dropped; it reconnects and refetches rather than holding memory. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024
const HEARTBEAT_MS = 15_000

/** `GET /api/stream`: Server-Sent Events, one `data:` message per engine Change. */
export function openChangeStream(
  req: IncomingMessage,
  res: ServerResponse,
  engine: Engine,
  streams: Set<ServerResponse>,
): void {
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
