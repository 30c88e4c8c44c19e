/**
 * What the rest of the service calls to raise a webhook event. Events raised in one turn of the
 * event loop are queued together at its end (one pipeline of XADDs with Redis): raising one costs
 * the caller an array push, never an await, so delivery to sockets does not wait for the queue.
 * What waits to be queued is bounded (MAX_UNQUEUED); past it, and when the queue cannot be
 * written, events are dropped and counted.
 *
 * `message.stored` is the exception that makes it at least once across a SIGKILL: the hub
 * acknowledges a stored send only once its event is in the queue, so messageStored hands back a
 * promise of the turn's queue write (one per turn, shared by its events: no round trip of their
 * own). Not queued, the send is answered `unavailable` and the client resends with its key; the
 * resend, found stored, raises the event again with the same id.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Dispatcher, WebhookResult } from './dispatcher.js'
import { roomOfData, webhookEvent, type WebhookEvent, type WebhookEventType } from './events.js'
import type { WebhookStore } from './store.js'

/** Events raised but not yet written to the queue, at most (a Redis that does not answer holds them). */
export const MAX_UNQUEUED = 10_000

const NOT_QUEUED = Promise.resolve(false)

export interface WebhooksOptions {
  store: WebhookStore
  dispatcher: Dispatcher
  /** The types WEBHOOK_EVENTS asks for. */
  types: ReadonlySet<WebhookEventType>
  counted: (type: WebhookEventType, result: WebhookResult) => void
  log: FastifyBaseLogger
}

export class Webhooks {
  private batch: WebhookEvent[] = []
  private unqueued = 0
  private flushScheduled = false
  /** Settles once the current batch's queue write did (true: queued); made when a caller waits on it. */
  private batchQueued: Promise<boolean> | null = null
  private settleBatch: ((queued: boolean) => void) | null = null

  constructor (private readonly opts: WebhooksOptions) {}

  wants (type: WebhookEventType): boolean {
    return this.opts.types.has(type)
  }

  /**
   * Raises an event; `dataJson` is its `data`, a JSON object. `id` defaults to a fresh one. A room
   * event's room (the `data`'s first field) picks its stream on a Cluster.
   */
  emit (type: WebhookEventType, dataJson: string, id: string = randomUUID(), timestamp = Date.now()): void {
    if (this.wants(type)) this.raise(webhookEvent(id, type, timestamp, dataJson, roomOfData(dataJson)))
  }

  /**
   * A stored room message (or one found stored under its key: raised again, the first may not
   * have been queued). The parts are JSON already (as the hub built the frame). Its id derives from
   * the messageId, which names one message across the cluster, so a second raise has the same id.
   * Undefined when not asked for (WEBHOOK_EVENTS); else resolves once the queue write settled:
   * true when the event is queued.
   */
  messageStored (room: string, messageId: string, offset: number | undefined, epoch: string | undefined, fromJson: string, dataJson: string, key: string | undefined): Promise<boolean> | undefined {
    if (!this.wants('message.stored')) return undefined
    const position = offset === undefined ? '' : `,"offset":${offset},"epoch":${JSON.stringify(epoch)}`
    const keyJson = key === undefined ? 'null' : JSON.stringify(key)
    const data = `{"room":"${room}","messageId":"${messageId}"${position},"from":${fromJson},"data":${dataJson},"key":${keyJson}}`
    if (!this.raise(webhookEvent(`msg_${messageId}`, 'message.stored', Date.now(), data, room))) return NOT_QUEUED
    if (this.batchQueued === null) this.batchQueued = new Promise(resolve => { this.settleBatch = resolve })
    return this.batchQueued
  }

  /** Adds the event to this turn's batch; false when dropped (too many wait to be queued). */
  private raise (event: WebhookEvent): boolean {
    if (this.unqueued >= MAX_UNQUEUED) {
      this.dropped(event)
      return false
    }
    this.unqueued++
    this.batch.push(event)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.flush)
    }
    return true
  }

  /** Events waiting: queued (in Redis: cluster-wide, as last read), held by this instance (memory), or not yet queued. */
  get waiting (): number {
    const { store, dispatcher } = this.opts
    return this.unqueued + store.waiting() + (store.durable ? 0 : dispatcher.holding)
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    const batch = this.batch
    const settle = this.settleBatch
    this.batch = []
    this.batchQueued = null
    this.settleBatch = null
    this.opts.store.add(batch).then(() => {
      this.unqueued -= batch.length
      settle?.(true)
      this.opts.dispatcher.wake()
    }, (err: Error) => {
      this.unqueued -= batch.length
      this.opts.log.warn({ err, events: batch.length }, 'webhook events could not be queued and are dropped (their message sends are answered unavailable)')
      for (const event of batch) this.dropped(event)
      settle?.(false)
    })
  }

  private dropped (event: WebhookEvent): void {
    this.opts.counted(event.type, 'dropped')
  }
}
