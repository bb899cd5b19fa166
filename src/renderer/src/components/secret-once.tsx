import { CopyButton } from './copy-button'

/**
 * A new signing secret, shown once with a copy button: the engine keeps only its sealed form and never shows it
 * again. `where` says where the user puts it.
 */
export function SecretOnce({ secret, where, onDone }: { secret: string; where: string; onDone: () => void }) {
  return (
    <div className="secret-once" role="status">
      <p>
        New signing secret — {where} now; it is never shown again: <code className="secret">{secret}</code>{' '}
        <CopyButton text={secret} label="Copy secret" />
      </p>
      <button type="button" className="small" onClick={onDone}>
        Done
      </button>
    </div>
  )
}
