import type { z } from 'zod'
import type { ProviderId } from '../../shared/domain'

/** An inbound HTTP request as the receiver captured it. `body` is the raw bytes, never re-serialized. */
export interface InboundRequest {
  method: string
  /** Path as received, e.g. `/hooks/shop/extra`. */
  path: string
  /** Query string without the leading `?`, in its original order and encoding. */
  query: string
  /** Lower-cased header names; repeated headers joined with `, `. */
  headers: Record<string, string>
  body: Buffer
  receivedAt: number
}

/** What a provider module may know about the source a request was sent to. */
export interface SourceContext {
  id: string
  /** Current secret first, then the previous one while its rotation grace lasts. Empty when none is set. */
  secrets: string[]
  /** Validated options (the preset's own `options` schema output). */
  options: Record<string, unknown>
  /** The exact URL the provider calls (options.publicUrl, else tunnel URL + /hooks/:id), or null. */
  publicUrl: string | null
  /** Wall clock in ms (tests pass a fake). */
  now(): number
}

export type VerifyResult = { ok: true } | { ok: false; reason: string }

export interface HandshakeAnswer {
  status: number
  headers?: Record<string, string>
  body?: string | Buffer
  /** A secret the provider handed over during the handshake (Asana X-Hook-Secret): becomes the source's secret. */
  adoptSecret?: string
  /** Something the user must see and act on (Notion verification_token), kept on the source. */
  notice?: string
}

/** A correctly signed sample request for "send a test event". */
export interface SampleRequest {
  method: string
  /** Extra path after /hooks/:id (usually ''). */
  pathSuffix?: string
  query?: string
  headers: Record<string, string>
  body: Buffer
}

/**
 * A service preset. Every function is pure with respect to the store: it reads the request and the source
 * context and answers. The receiver does the I/O.
 */
export interface Provider {
  id: ProviderId
  name: string
  /** Allowed methods (upper case). Anything else answers 405. */
  methods: readonly string[]
  /** When true, a request whose content type is not JSON answers 415 (after handshake, before verify). */
  requiresJson: boolean
  /** Whether this preset verifies with a shared secret, and whether creating a source requires one. */
  usesSecret: boolean
  secretRequired: boolean
  /** Options beyond the secret; parsed when a source is created or updated. Errors name the option. */
  options: z.ZodType<Record<string, unknown>>
  /**
   * Checks what the options schema alone cannot: a value a preset accepts either as an option or as the secret
   * (Google channel token, Graph clientState, Pipedrive password, Home Assistant secret path). Called with the
   * parsed options and whether a secret is (or will be) set, when a source is created or updated. Returns an
   * error message naming the missing option, or null when the source is complete.
   */
  validateSetup?(options: Record<string, unknown>, hasSecret: boolean): string | null
  /** Option names whose values are secrets (a token, a password): never shown back to the user. */
  secretOptions?: readonly string[]
  /** Human descriptions of the options, for the UI. */
  optionDocs: Array<{ name: string; required: boolean; description: string }>
  /** Setup text: what the user pastes where. `{url}` stands for the public URL. */
  setup: string
  /**
   * A setup handshake the provider performs, answered with its own response. Return null when the request is
   * not a handshake. Runs before verify; a handshake the provider signs must verify inside this function.
   */
  handshake?(req: InboundRequest, ctx: SourceContext, json: unknown): HandshakeAnswer | null
  verify(req: InboundRequest, ctx: SourceContext): VerifyResult
  /**
   * The provider's delivery id (stable across retries) or null, in which case a SHA-256 of the body is used.
   * `options` (the source's validated options) matters to presets configured by options (generic-hmac's idHeader).
   */
  dedupId(req: InboundRequest, json: unknown, options?: Record<string, unknown>): string | null
  /**
   * Each event's body is unique to it (it carries the event's own ids or times), while the delivery id travels
   * outside what the signature covers. A verified delivery whose body repeats one already accepted from the
   * source is then a replay under a fresh id, and is stored as a duplicate of the first. Not for presets whose
   * bodies may repeat (generic-hmac, shared tokens, empty bodies).
   */
  bodyIdentifiesEvent?: boolean
  /** The event type for triggers and the feed; `options` as for dedupId (generic-hmac's typeHeader). */
  eventType(req: InboundRequest, json: unknown, options?: Record<string, unknown>): string | null
  /** A correctly signed sample, for "send a test event". */
  sample(ctx: SourceContext): SampleRequest
}
