/**
 * Sends queued events: takes at most MAX_HELD from the store at a time (what this instance holds in
 * flight is capped, however far behind the receiver is), sends each, and retries a failed one after
 * 1 s, 2 s, 4 s, ... (at most WEBHOOK_MAX_RETRY_DELAY_MS apart) until WEBHOOK_RETRY_FOR_SEC after
 * the event happened, then drops it and counts it. A retry is the same event: same id, same body.
 *
 * Nothing here runs on the path that delivers to sockets: the store is read on a timer and after
 * each queueing, and every send is an independent promise with its own deadline.
 */
import type { FastifyBaseLogger } from 'fastify'
import { retryDelayMs } from './backoff.js'
import type { WebhookEvent, WebhookEventType } from './events.js'
import type { AttemptResult } from './sender.js'
import { KEEP_MS } from './redis-store.js'
import type { HeldEvent, WebhookStore } from './store.js'

/** Events one instance holds at most (being sent or waiting for their retry). */
export const MAX_HELD = 256
/** The smallest read while events are in flight (see reserve). */
const MIN_READ = 32
/** How often the store is looked at when nothing woke the dispatcher (events queued by other instances). */
export const POLL_MS = 500

export type WebhookResult = 'ok' | 'retried' | 'dropped'

export interface DispatcherOptions {
  store: WebhookStore
  send: (event: WebhookEvent) => Promise<AttemptResult>
  maxRetryDelayMs: number
  retryForMs: number
  counted: (type: WebhookEventType, result: WebhookResult) => void
  log: FastifyBaseLogger
  maxHeld?: number
}

interface Entry {
  held: HeldEvent
  failures: number
  timer: NodeJS.Timeout | null
}

export class Dispatcher {
  private readonly held = new Map<string, Entry>()
  /** Room set aside for reads under way that ride on queue writes (store.taker). */
  private reserved = 0
  /** Attempts waiting for their answer (not those waiting for a retry). */
  private inFlight = 0
  private pumping = false
  private again = false
  private wakeScheduled = false
  private closed = false
  private timers: NodeJS.Timeout[] = []
  private readonly maxHeld: number

  constructor (private readonly opts: DispatcherOptions) {
    this.maxHeld = opts.maxHeld ?? MAX_HELD
  }

  start (): void {
    if ('taker' in this.opts.store) this.opts.store.taker = { reserve: want => this.reserve(want), accept: (reserved, taken) => this.accept(reserved, taken) }
    const poll = setInterval(() => { this.wake() }, POLL_MS)
    const keep = setInterval(() => { this.opts.store.keep([...this.held.values()].map(e => e.held)) }, KEEP_MS)
    poll.unref()
    keep.unref()
    this.timers = [poll, keep]
    this.wake()
  }

  /** Events held now (in flight or waiting for a retry). */
  get holding (): number {
    return this.held.size
  }

  /** Looks at the store now (events were queued). */
  wake (): void {
    if (this.closed) return
    if (this.pumping) {
      this.again = true
      return
    }
    this.pump().catch(() => {})
  }

  /** Stops sending. Held events stay in Redis and another instance takes them; in memory they are lost (logged). */
  close (): void {
    this.closed = true
    for (const timer of this.timers) clearInterval(timer)
    for (const entry of this.held.values()) if (entry.timer !== null) clearTimeout(entry.timer)
    if (!this.opts.store.durable && this.held.size + this.opts.store.waiting() > 0) {
      this.opts.log.warn({ events: this.held.size + this.opts.store.waiting() }, 'webhook events not sent are lost with this process (no Redis)')
    }
    this.held.clear()
  }

  private async pump (): Promise<void> {
    this.pumping = true
    try {
      do {
        this.again = false
        const room = this.reserve()
        if (room <= 0) break
        const taken = await this.opts.store.take(room).finally(() => { this.reserved -= room })
        this.hold(taken)
        if (taken.length === room) this.again = true
      } while (this.again && !this.closed)
    } catch (err) {
      this.opts.log.warn({ err }, 'reading the webhook queue failed')
    } finally {
      this.pumping = false
    }
  }

  /**
   * Sets aside what may be taken now, at most `want` (a read under way is not counted twice). While
   * attempts are in flight a read of a few costs a round trip for little: it waits for their
   * answers to make room for MIN_READ, unless it gets all it wants.
   */
  private reserve (want = this.maxHeld): number {
    const available = this.closed ? 0 : this.maxHeld - this.held.size - this.reserved
    const room = Math.min(available, want)
    // Only answers on their way make room soon: events waiting for a retry (a receiver that
    // refuses some for hours) must not stop the reading of the others.
    if (room <= 0 || (room < want && room < MIN_READ && this.inFlight + this.reserved > 0)) return 0
    this.reserved += room
    return room
  }

  private accept (reserved: number, taken: HeldEvent[]): void {
    this.reserved -= reserved
    this.hold(taken)
    // All the room was taken: more may wait.
    if (taken.length === reserved) this.wake()
  }

  /** Starts sending what a read took. */
  private hold (taken: HeldEvent[]): void {
    for (const held of taken) {
      if (this.held.has(held.ref) || this.closed) continue
      const entry: Entry = { held, failures: 0, timer: null }
      this.held.set(held.ref, entry)
      this.attempt(entry)
    }
  }

  private attempt (entry: Entry): void {
    entry.timer = null
    const { event } = entry.held
    this.inFlight++
    this.opts.send(event).then(result => {
      this.inFlight--
      if (this.closed) return
      if (result.ok) {
        this.finish(entry, 'ok')
        return
      }
      entry.failures++
      const delay = retryDelayMs(entry.failures, this.opts.maxRetryDelayMs)
      if (Date.now() + delay > event.timestamp + this.opts.retryForMs) {
        this.opts.log.warn({ id: event.id, type: event.type, failures: entry.failures, reason: result.reason }, 'webhook event dropped: not acknowledged within WEBHOOK_RETRY_FOR_SEC')
        this.finish(entry, 'dropped')
        return
      }
      this.opts.counted(event.type, 'retried')
      this.opts.log.debug({ id: event.id, reason: result.reason, delay }, 'webhook attempt failed, retrying')
      entry.timer = setTimeout(() => { this.attempt(entry) }, delay)
    }, (err: unknown) => {
      this.inFlight--
      // send() does not reject; were it to, the entry is retried like any failure.
      this.opts.log.error({ err }, 'webhook send threw')
    })
  }

  private finish (entry: Entry, result: WebhookResult): void {
    this.opts.counted(entry.held.event.type, result)
    this.opts.store.done(entry.held)
    this.held.delete(entry.held.ref)
    // Answers come in bursts: the room they make is filled by one read at the end of the turn.
    if (this.wakeScheduled) return
    this.wakeScheduled = true
    setImmediate(() => {
      this.wakeScheduled = false
      this.wake()
    })
  }
}
