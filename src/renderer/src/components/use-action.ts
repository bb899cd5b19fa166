import { useCallback, useState } from 'react'
import { describeError } from '../api/api-errors'
import { useApp } from '../app-context'

/**
 * Run a user action with a pending flag, and report its outcome (success text or the error) in the
 * outcome area, so every action says what happened.
 */
export function useAction<A extends unknown[], R>(
  action: (...args: A) => Promise<R>,
  describe: (result: R, ...args: A) => string,
) {
  const { system } = useApp()
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const run = useCallback(
    async (...args: A): Promise<R | undefined> => {
      setPending(true)
      setError(null)
      try {
        const result = await action(...args)
        system.report('ok', describe(result, ...args))
        return result
      } catch (e) {
        const message = describeError(e)
        setError(message)
        system.report('error', message)
        return undefined
      } finally {
        setPending(false)
      }
    },
    [action, describe, system],
  )
  return { run, pending, error }
}
