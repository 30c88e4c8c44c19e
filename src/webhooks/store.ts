/**
 * Where queued webhook events wait: in Redis (a stream every instance reads, redis-store.ts) or in
 * this process (memory-store.ts). The dispatcher takes at most a bounded number at a time, sends
 * them, and marks each done once acknowledged or dropped; what it has not taken stays in the store.
 */
import type { WebhookEvent } from './events.js'

/** An event the dispatcher holds, with the store's handle on it. */
export interface HeldEvent {
  ref: string
  event: WebhookEvent
}

/** The dispatcher's side of a read that rides on a queue write: how much it may take, and what it got. */
export interface Taker {
  /** Events the dispatcher can take now, at most `want`; what is returned is set aside for this read. */
  reserve: (want: number) => number
  /** The read's events (none if it failed); gives back what was reserved for it. */
  accept: (reserved: number, taken: HeldEvent[]) => void
}

export interface WebhookStore {
  /** True when a queued event outlives this process (Redis). */
  readonly durable: boolean
  /** Queues events; rejects when they could not be queued (Redis unreachable past its deadline). */
  add (events: WebhookEvent[]): Promise<void>
  /** At most `max` events to send: new ones, and (Redis) ones a dead instance held. */
  take (max: number): Promise<HeldEvent[]>
  /** Acknowledged or dropped: never sent again. */
  done (held: HeldEvent): void
  /** Still being worked on by this instance (retries): nobody else takes them. */
  keep (held: HeldEvent[]): void
  /** Set by the dispatcher where a queue write can read new events for it in the same round trip (Redis). */
  taker?: Taker | null
  /** Events waiting in the store (not taken), as last known. */
  waiting (): number
  close (): void
}

/** Encodes an event as the stream's fields / back. */
export function eventFields (event: WebhookEvent): string[] {
  return ['i', event.id, 'y', event.type, 't', String(event.timestamp), 'b', event.body]
}

export function eventFromFields (fields: string[]): WebhookEvent | null {
  const map = new Map<string, string>()
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i], fields[i + 1])
  const id = map.get('i')
  const type = map.get('y')
  const timestamp = Number(map.get('t'))
  const body = map.get('b')
  if (id === undefined || type === undefined || body === undefined || !Number.isFinite(timestamp)) return null
  return { id, type: type as WebhookEvent['type'], timestamp, body }
}
