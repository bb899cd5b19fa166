import { isAppUrl } from './navigation-policy'

/** What the IPC gateway knows about the frame a message came from (`event.senderFrame`, may be gone). */
export interface SenderFrame {
  /** URL of the frame at the time of the message. */
  url: string
  /** Whether it is the top frame of its page (subframes never get the API). */
  isMainFrame: boolean
  /** Id of the WebContents that sent it. */
  webContentsId: number
}

/** Who may call the API: the app's own windows, showing the app's own origin. */
export interface SenderTrust {
  /** Ids of the WebContents the app created. */
  webContentsIds: ReadonlySet<number>
  /** The app's origins (see `isAppUrl`). */
  origins: readonly string[]
}

/**
 * Whether an IPC message may be handled: it comes from the main frame of one of the app's own windows while
 * that frame shows the app's origin. A missing frame (navigated away or destroyed), a subframe, another
 * WebContents, or any other URL is refused.
 */
export function isTrustedSender(frame: SenderFrame | null | undefined, trust: SenderTrust): boolean {
  if (!frame || typeof frame !== 'object') return false
  if (frame.isMainFrame !== true) return false
  if (!Number.isInteger(frame.webContentsId) || !trust.webContentsIds.has(frame.webContentsId)) return false
  return isAppUrl(frame.url, trust.origins)
}
