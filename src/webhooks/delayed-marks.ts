/**
 * A mark true for the whole cluster (or the one instance), set at once and cleared after a delay:
 * what room.occupied / room.vacated (presence-events.ts) and user.online / user.offline
 * (user-events.ts) have in common. A key (a room, a user) has leases (members, sockets):
 *
 * - up: a lease of a key was written; setting the key's mark makes one instance raise the up event.
 * - down: a key may have no lease left; a check is queued, due WEBHOOK_VACATED_DELAY_MS later (a
 *   later one restarts the delay). It raises the down event only if no lease is live then and the
 *   mark was still set (clearing it tells one instance), so a key that comes back within the delay
 *   makes no pair of events.
 *
 * `LocalMarks` (here) serves one instance; `RedisMarks` (redis-marks.ts) a cluster. What a lease is,
 * whether one is live, and the events' data are each kind's own.
 */
import type { WebhookEventType } from './events.js'
import type { Webhooks } from './webhooks.js'

/** What every kind's marks are given by the app. */
export interface MarksContext {
  webhooks: Webhooks
  /** WEBHOOK_VACATED_DELAY_MS: how long a key must have had no lease before its down event. */
  delayMs: number
}

/** A kind's two events. */
export interface MarkEvents {
  /** Raised once when the key is marked: room.occupied, user.online. */
  up: WebhookEventType
  /** Raised once when a due check clears the mark: room.vacated, user.offline. */
  down: WebhookEventType
  upData: (key: string) => string
}

export interface LocalMarkKind extends MarkEvents {
  /** A due check: the down event's data if the key has no lease now, else null. */
  downData: (key: string) => Promise<string | null>
}

/** What a kind's watcher tells its marks. */
export interface DelayedMarks {
  /** A lease of `key` was written. */
  up: (key: string) => void
  /** `key` may have no lease left: checked the delay later. */
  down: (key: string) => void
}

/** One instance: what it sees is everyone's. The marks in a Set, a timer per queued check. */
export class LocalMarks implements DelayedMarks {
  private readonly marked = new Set<string>()
  /** Queued checks: when each is due (Date.now() time); each has one timer armed. */
  private readonly checks = new Map<string, number>()

  constructor (private readonly context: MarksContext, private readonly kind: LocalMarkKind) {}

  up (key: string): void {
    if (this.marked.has(key)) return
    this.marked.add(key)
    this.context.webhooks.emit(this.kind.up, this.kind.upData(key))
  }

  down (key: string): void {
    const due = Date.now() + this.context.delayMs
    // A second last lease gone (after a return) restarts the delay: it counts from the last one.
    // The queued check's timer stays; when it fires, the check waits out what is left (`check`).
    if (!this.checks.has(key)) this.arm(key, this.context.delayMs)
    this.checks.set(key, due)
  }

  private arm (key: string, ms: number): void {
    setTimeout(() => { this.check(key) }, ms).unref()
  }

  private check (key: string): void {
    const due = this.checks.get(key)
    if (due === undefined) return
    // Due later: a later down moved it, or the timer fired early (timers run on a clock of whole
    // milliseconds of their own, and may fire a millisecond before Date.now() reaches the due time;
    // the event would then claim a key vacant for less than the delay).
    const left = due - Date.now()
    if (left > 0) {
      this.arm(key, left)
      return
    }
    this.checks.delete(key)
    this.kind.downData(key).then(data => {
      if (data !== null && this.marked.delete(key)) this.context.webhooks.emit(this.kind.down, data)
    }, () => {})
  }
}
