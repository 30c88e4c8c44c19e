/**
 * What the rest of the service calls to raise a webhook event. Events raised in one turn of the
 * event loop are queued together at its end (one pipeline of XADDs with Redis): raising one costs
 * the caller an array push, never an await, so delivery to sockets does not wait for the queue.
 * What waits to be queued is bounded (MAX_UNQUEUED); past it, and when the queue cannot be
 * written, events are dropped and counted.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Dispatcher, WebhookResult } from './dispatcher.js'
import { webhookEvent, type WebhookEvent, type WebhookEventType } from './events.js'
import type { WebhookStore } from './store.js'

/** Events raised but not yet written to the queue, at most (a Redis that does not answer holds them). */
export const MAX_UNQUEUED = 10_000

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

  constructor (private readonly opts: WebhooksOptions) {}

  wants (type: WebhookEventType): boolean {
    return this.opts.types.has(type)
  }

  /** Raises an event; `dataJson` is its `data`, a JSON object. `id` defaults to a fresh one. */
  emit (type: WebhookEventType, dataJson: string, id: string = randomUUID(), timestamp = Date.now()): void {
    if (!this.wants(type)) return
    const event = webhookEvent(id, type, timestamp, dataJson)
    if (this.unqueued >= MAX_UNQUEUED) {
      this.dropped(event)
      return
    }
    this.unqueued++
    this.batch.push(event)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.flush)
    }
  }

  /**
   * A stored room message. The parts are JSON already (as the hub built the frame). Its id derives
   * from the messageId, which names one message across the cluster.
   */
  messageStored (room: string, messageId: string, offset: number | undefined, epoch: string | undefined, fromJson: string, dataJson: string, key: string | undefined): void {
    if (!this.wants('message.stored')) return
    const position = offset === undefined ? '' : `,"offset":${offset},"epoch":${JSON.stringify(epoch)}`
    const keyJson = key === undefined ? 'null' : JSON.stringify(key)
    this.emit('message.stored', `{"room":"${room}","messageId":"${messageId}"${position},"from":${fromJson},"data":${dataJson},"key":${keyJson}}`, `msg_${messageId}`)
  }

  /** Events waiting: queued (in Redis: cluster-wide, as last read), held by this instance (memory), or not yet queued. */
  get waiting (): number {
    const { store, dispatcher } = this.opts
    return this.unqueued + store.waiting() + (store.durable ? 0 : dispatcher.holding)
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    const batch = this.batch
    this.batch = []
    this.opts.store.add(batch).then(() => {
      this.unqueued -= batch.length
      this.opts.dispatcher.wake()
    }, (err: Error) => {
      this.unqueued -= batch.length
      this.opts.log.warn({ err, events: batch.length }, 'webhook events could not be queued and are dropped')
      for (const event of batch) this.dropped(event)
    })
  }

  private dropped (event: WebhookEvent): void {
    this.opts.counted(event.type, 'dropped')
  }
}
