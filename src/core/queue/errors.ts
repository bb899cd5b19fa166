/** Thrown by a job handler: retry, but not before `delayMs` (a provider's Retry-After). */
export class RetryAfterError extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message)
    this.name = 'RetryAfterError'
  }
}

/** Thrown by a job handler: retrying cannot help (a 4xx, a bad definition); dead-letter at once. */
export class UnrecoverableError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UnrecoverableError'
  }
}
