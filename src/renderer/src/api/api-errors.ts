/**
 * Mapping whatever a transport fails with onto the contract's `ApiError` (code, message, details), so views
 * handle one error type: `details.issues` = `[{path, message}]` for validation errors.
 */
import type { ErrorCode } from '../../../shared/contract'
import { ApiError, ERROR_CODES } from '../../../shared/contract'

export { ApiError }

/** One field-level problem, as the server reports validation errors. */
export interface FieldIssue {
  path: string
  message: string
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value)
}

/** The error code that fits an HTTP status when the body names none we know. */
export function codeForStatus(status: number): ErrorCode {
  for (const [code, s] of Object.entries(ERROR_CODES)) if (s === status) return code as ErrorCode
  if (status >= 500) return 'internal'
  return 'bad_request'
}

/**
 * Build an ApiError from a decoded `{"error": {code, message, details}}` envelope (or the inner object);
 * returns null when the value is not such an envelope.
 */
export function errorFromEnvelope(value: unknown, status?: number): ApiError | null {
  if (!value || typeof value !== 'object') return null
  const inner = 'error' in value ? (value as { error: unknown }).error : value
  if (!inner || typeof inner !== 'object') return null
  const { code, message, details } = inner as { code?: unknown; message?: unknown; details?: unknown }
  if (typeof message !== 'string' && typeof code !== 'string') return null
  const known: ErrorCode = isErrorCode(code) ? code : status ? codeForStatus(status) : 'internal'
  return new ApiError(known, typeof message === 'string' ? message : String(code), details)
}

/**
 * Turn anything thrown by a transport into an ApiError: ApiErrors pass through; objects carrying a known
 * `code` keep it; an Electron IPC rejection whose message embeds the JSON envelope is decoded; anything else
 * becomes `internal` with its message.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (error && typeof error === 'object') {
    const carriesCode = 'error' in error || isErrorCode((error as { code?: unknown }).code)
    const direct = carriesCode ? errorFromEnvelope(error) : null
    if (direct) return direct
  }
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'Unknown error'
  const embedded = message.indexOf('{"error"')
  if (embedded >= 0) {
    try {
      const parsed = errorFromEnvelope(JSON.parse(message.slice(embedded)))
      if (parsed) return parsed
    } catch {
      // Not JSON after all: fall through to the plain message.
    }
  }
  // Electron prefixes rejections with "Error invoking remote method '<channel>': "; the rest is the reason.
  const reason = message.replace(/^Error invoking remote method '[^']*': (?:\w*Error: )?/, '')
  return new ApiError('internal', reason)
}

/** The field-level issues of a validation error, or an empty list. */
export function issuesOf(error: unknown): FieldIssue[] {
  if (!(error instanceof ApiError)) return []
  const details = error.details as { issues?: unknown } | undefined
  if (!details || !Array.isArray(details.issues)) return []
  return details.issues.flatMap((issue: unknown) => {
    if (!issue || typeof issue !== 'object') return []
    const { path, message } = issue as { path?: unknown; message?: unknown }
    const p = Array.isArray(path) ? path.join('.') : typeof path === 'string' ? path : ''
    return typeof message === 'string' ? [{ path: p, message }] : []
  })
}

/** A one-line human message for any failure. */
export function describeError(error: unknown): string {
  const e = toApiError(error)
  return e.message || e.code
}
