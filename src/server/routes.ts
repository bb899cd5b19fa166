import { ApiError, operations, type OperationName } from '../shared/contract'

export interface Route {
  name: OperationName
  method: string
  pattern: RegExp
  params: string[]
  public: boolean
}

/**
 * The control API's routes, derived from the contract. Routes with fewer parameters come first, so that a
 * literal segment (`/api/workflows/schema`) wins over a parameter (`/api/workflows/:id`).
 */
export const routes: Route[] = (Object.keys(operations) as OperationName[])
  .map((name) => {
    const spec = operations[name]
    const params: string[] = []
    const source = spec.path
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        params.push(segment.slice(1))
        return '([^/]+)'
      })
      .join('/')
    return {
      name,
      method: spec.method,
      pattern: new RegExp(`^${source}/?$`),
      params,
      public: 'public' in spec && spec.public === true,
    }
  })
  .sort((a, b) => a.params.length - b.params.length)

/** Find the route for a method and path; `allowed` lists the methods the path has when the method does not match. */
export function matchRoute(
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | { route: null; allowed: string[] } {
  const allowed: string[] = []
  for (const route of routes) {
    const match = route.pattern.exec(path)
    if (!match) continue
    if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
      allowed.push(route.method)
      continue
    }
    const params: Record<string, string> = {}
    for (const [i, name] of route.params.entries()) {
      try {
        params[name] = decodeURIComponent(match[i + 1]!)
      } catch {
        throw new ApiError('bad_request', `${name}: not a valid percent-encoded path segment`)
      }
    }
    return { route, params }
  }
  return { route: null, allowed }
}
