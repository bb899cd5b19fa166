import type { Change } from '../shared/contract'
import type { NavigateTarget } from '../shared/ipc'
import type { ElectronBoundary, NotificationPort } from './boundary'

/** Notifications kept alive until clicked or closed (a collected one loses its click handler). */
const MAX_LIVE = 50

/** What a change becomes as a native notification, or null when it should not notify. */
export function notificationFor(
  change: Change,
): { title: string; body: string; target: NavigateTarget | null } | null {
  if (change.type === 'notification') {
    const n = change.notification
    const target: NavigateTarget | null = n.eventId
      ? { view: 'event', eventId: n.eventId }
      : n.runId
        ? { view: 'run', runId: n.runId }
        : null
    return { title: n.title, body: n.body ?? '', target }
  }
  if (change.type === 'alert') {
    const a = change.alert
    // An alert change also announces its resolution; only an open alert is news.
    if (a.resolvedAt !== null) return null
    const eventId = typeof a.data?.eventId === 'string' ? a.data.eventId : null
    return {
      title: a.title,
      body: a.message,
      target: eventId ? { view: 'event', eventId } : { view: 'alerts', alertId: a.id },
    }
  }
  return null
}

export interface DesktopNotifierOptions {
  boundary: Pick<ElectronBoundary, 'notificationsSupported' | 'createNotification'>
  /** The user clicked a notification: show the window and go to the target. */
  onClick(target: NavigateTarget | null): void
}

/** Shows native notifications for `notify` steps and open alerts; a click opens the event in the inspector. */
export function createDesktopNotifier(options: DesktopNotifierOptions): { handle(change: Change): void } {
  const live = new Set<NotificationPort>()
  return {
    handle(change) {
      const spec = notificationFor(change)
      if (!spec || !options.boundary.notificationsSupported()) return
      const notification = options.boundary.createNotification({ title: spec.title, body: spec.body })
      if (live.size >= MAX_LIVE) live.delete(live.values().next().value as NotificationPort)
      live.add(notification)
      notification.onClick(() => {
        live.delete(notification)
        options.onClick(spec.target)
      })
      notification.onClose(() => live.delete(notification))
      notification.show()
    },
  }
}
