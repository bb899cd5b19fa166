/**
 * `application/x-www-form-urlencoded` bodies (Twilio, Slack slash commands): decoded name/value pairs in the
 * order received, `+` as space.
 */
export function parseFormBody(body: Buffer): Array<[string, string]> {
  return [...new URLSearchParams(body.toString('utf8'))]
}

/** Whether the request's content type is form-encoded. */
export function isFormEncoded(contentType: string | undefined): boolean {
  return (contentType ?? '').toLowerCase().split(';')[0]?.trim() === 'application/x-www-form-urlencoded'
}

/** The first value of `name` in a form body, or null. */
export function formValue(body: Buffer, name: string): string | null {
  for (const [key, value] of parseFormBody(body)) if (key === name) return value
  return null
}
