import { tokensEqual } from './hmac'

/**
 * Presets whose check is an equality (a channel token, a clientState, a password, a secret path) accept the
 * value as an option or as the source's secret — both current and previous, during a rotation.
 */
export function acceptedTokens(option: unknown, secrets: readonly string[]): string[] {
  const tokens = typeof option === 'string' && option !== '' ? [option] : []
  return [...tokens, ...secrets.filter((secret) => secret !== '')]
}

/** Constant-time: whether `presented` equals any accepted token. */
export function matchesAnyToken(presented: string, tokens: readonly string[]): boolean {
  let match = false
  for (const token of tokens) match = tokensEqual(presented, token) || match
  return match
}

/** The `validateSetup` message when neither the option nor a secret is set. */
export function missingTokenMessage(option: string, what: string): string {
  return `options.${option} is required (${what}), or set it as the secret`
}
