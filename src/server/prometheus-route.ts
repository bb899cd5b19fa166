import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Engine } from '../core/engine'
import type { ExtraRoute } from './control-api'

/**
 * `GET /api/metrics?format=prometheus` — the metrics in the Prometheus text exposition format (for a scraper
 * beside the headless server; it sends the bearer token). Without `format=prometheus` the contract's JSON
 * route answers.
 */
export function prometheusRoute(engine: Engine): ExtraRoute {
  return (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (url.pathname !== '/api/metrics' || url.searchParams.get('format') !== 'prometheus') return false
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    const text = engine.prometheus()
    res.writeHead(200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    })
    res.end(req.method === 'HEAD' ? undefined : text)
    return true
  }
}
