import type { InboundRequest, SourceContext } from './types'

/**
 * The URL a provider signed, rebuilt from the source's public URL (never from the Host header, which the
 * tunnel rewrites): the public URL's origin and path, then any path below `/hooks/:id` as received, then the
 * query string exactly as received (original order and encoding). Null when the source has no public URL.
 */
export function signedRequestUrl(req: InboundRequest, ctx: SourceContext): string | null {
  if (!ctx.publicUrl) return null
  const base = stripQuery(ctx.publicUrl)
  return base + pathBelowHook(req.path, ctx.id) + (req.query ? `?${req.query}` : '')
}

/** The URL a sample request for this source is sent to, as the provider would sign it. */
export function sampleRequestUrl(ctx: SourceContext, pathSuffix = '', query = ''): string {
  return stripQuery(ctx.publicUrl ?? '') + pathSuffix + (query ? `?${query}` : '')
}

/** The part of `path` after `/hooks/<id>` (e.g. `/extra`), or '' when the path is not under it. */
export function pathBelowHook(path: string, sourceId: string): string {
  const prefix = `/hooks/${sourceId}`
  if (path === prefix) return ''
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : ''
}

function stripQuery(url: string): string {
  const cut = url.search(/[?#]/)
  return cut === -1 ? url : url.slice(0, cut)
}
