/** Workflows as `.json` files: what Export writes and Import reads. */

/** A file name for a workflow's document: its id, safe for every file system. */
export function workflowFileName(id: string): string {
  return `${id.replace(/[^A-Za-z0-9_.-]+/g, '-')}.json`
}

/** The document as it is saved: pretty JSON with a final newline, so files diff well. */
export function workflowFileText(definition: Record<string, unknown>): string {
  return JSON.stringify(definition, null, 2) + '\n'
}

/**
 * Read an imported file: it must be one JSON object with an `id`. The server validates the rest and answers
 * with field-level errors, so nothing else is checked here.
 */
export function parseWorkflowFile(text: string): Record<string, unknown> & { id: string } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`, { cause: error })
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error('a workflow file holds one JSON object')
  const id = (value as { id?: unknown }).id
  if (typeof id !== 'string' || !id) throw new Error('the workflow has no "id"')
  return value as Record<string, unknown> & { id: string }
}

/** Offer `text` as a download (the browser's save dialog, or the desktop app's). */
export function saveFile(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }))
  const link = document.createElement('a')
  link.href = url
  link.download = name
  link.click()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
