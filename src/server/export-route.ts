import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ApiError, badInput, eventFilterSchema } from '../shared/contract'
import type { Engine } from '../core/engine'
import { decodeText, EventStore } from '../core/events/event-store'
import type { ExtraRoute } from './control-api'

const PATH = '/api/events/export'
const PAGE = 500
/** Bytes of NDJSON gathered before a write. */
const CHUNK_BYTES = 256 * 1024

/**
 * `GET /api/events/export?source&status&type&q` — every matching event as NDJSON (one JSON object a line,
 * newest first): the feed summary plus query, headers and the body (`body` as text when it is UTF-8 text,
 * else `bodyBase64`). Filters and search mean what they mean for `GET /api/events`. Streamed page by page
 * with backpressure, so an export of the whole history does not hold it in memory.
 */
export function exportRoute(engine: Engine): ExtraRoute {
  let store: EventStore | null = null
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (url.pathname !== PATH && url.pathname !== `${PATH}/`) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      throw new ApiError('method_not_allowed', `${req.method} is not allowed on ${PATH}`)
    }
    const parsed = eventFilterSchema.safeParse(Object.fromEntries(url.searchParams))
    if (!parsed.success) throw badInput(parsed.error)
    store ??= new EventStore(engine.db)

    const query = (before?: string) =>
      engine.call('events.list', { ...parsed.data, ...(before ? { before } : {}), limit: PAGE })
    let page = await query()
    if (page.searchPending) {
      // An export is read as complete: rather than leave out the matches the index has not reached, say so.
      res.setHeader('retry-after', '10')
      throw new ApiError(
        'unavailable',
        `the search index is being rebuilt (at most ${page.searchPending} events not indexed yet): an export now would miss their matches; try again shortly`,
      )
    }
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'content-disposition': 'attachment; filename="switchboard-events.ndjson"',
      'cache-control': 'no-store',
    })
    if (req.method === 'HEAD') {
      res.end()
      return true
    }
    let closed = false
    res.once('close', () => (closed = true))
    /** Write, and wait until the client has taken it when its buffer is full; false once it has gone. */
    const write = async (text: string): Promise<boolean> => {
      if (closed) return false
      if (!res.write(text)) await Promise.race([once(res, 'drain'), once(res, 'close')])
      else await new Promise((resolve) => setImmediate(resolve))
      return !closed
    }
    for (;;) {
      // Written in pieces of about CHUNK_BYTES, each after the client has taken the last: a page of large bodies
      // is never held whole (a page of 200 events of 1 MB held over a gigabyte while a client stalled, measured).
      let chunk = ''
      let wrote = false
      for (const summary of page.items) {
        const loaded = store.load(summary.id)
        if (!loaded) continue // deleted by retention since the page was read
        const text = decodeText(loaded.body)
        chunk +=
          JSON.stringify({
            ...summary,
            query: loaded.query,
            headers: loaded.headers,
            body: text,
            bodyBase64: text === null ? loaded.body.toString('base64') : null,
          }) + '\n'
        if (chunk.length >= CHUNK_BYTES) {
          if (!(await write(chunk))) return true
          chunk = ''
          wrote = true
        }
      }
      if (chunk) {
        if (!(await write(chunk))) return true
        wrote = true
      }
      // Each page is read synchronously on the thread that answers webhooks, and a filtered export may walk many
      // short or empty pages (they never wait for a drain): give the event loop back between pages.
      if (!wrote) await new Promise((resolve) => setImmediate(resolve))
      if (!page.nextCursor || closed) break
      page = await query(page.nextCursor)
    }
    res.end()
    return true
  }
}
