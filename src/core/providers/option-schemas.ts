import { z } from 'zod'

/**
 * Building blocks for presets' `options` schemas. Every message names the option as the user writes it
 * (`options.header`), so a source created without it is refused with an error that says what to add.
 */

/** A required non-empty string option. */
export function requiredText(name: string, what: string) {
  return z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? `options.${name} is required (${what})`
          : `options.${name} must be a string`,
    })
    .min(1, { error: `options.${name} must not be empty (${what})` })
    .max(4096, { error: `options.${name} is too long` })
}

/** An optional non-empty string option. */
export function optionalText(name: string) {
  return z
    .string({ error: `options.${name} must be a string` })
    .min(1, { error: `options.${name} must not be empty` })
    .max(4096, { error: `options.${name} is too long` })
    .optional()
}

/** A required choice among `values`. */
export function requiredChoice<const T extends readonly [string, ...string[]]>(name: string, values: T) {
  const list = values.join('|')
  return z.enum(values, {
    error: (issue) =>
      issue.input === undefined
        ? `options.${name} is required (${list})`
        : `options.${name} must be one of ${list}`,
  })
}

/** The exact URL the provider calls, for presets that sign the URL; defaults to the tunnel URL + /hooks/:id. */
export const publicUrlOption = z
  .url({ protocol: /^https?$/, error: 'options.publicUrl must be an absolute http(s) URL' })
  .max(2048, { error: 'options.publicUrl is too long' })
  .optional()

export const publicUrlDoc = {
  name: 'publicUrl',
  required: false,
  description:
    'The exact URL the service calls, if it is not the tunnel URL (e.g. behind your own reverse proxy).',
}

/** An options object that refuses unknown keys (a typo must not silently disable a check). */
export function optionsObject<T extends z.ZodRawShape>(shape: T) {
  return z.strictObject({ publicUrl: publicUrlOption, ...shape }, { error: unknownOptionMessage })
}

function unknownOptionMessage(issue: { code?: string; keys?: string[] }): string | undefined {
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    return `unknown option${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.map((k) => `options.${k}`).join(', ')}`
  }
  return undefined
}
