/**
 * One stream of the webhook queue in Redis (redis-store.ts), and the round trips that touch only
 * it. A turn's writes go out as one pipeline, which also carries the entries this instance finished
 * with since (XACK and XDEL) and, when the dispatcher has room, the read of what is new: queueing a
 * burst, forgetting what was answered and taking the next events cost one round trip, not three.
 * A stream's keys share one slot, so the pipeline is valid on a Cluster too.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { WebhookEvent } from './events.js'
import { eventFields, eventFromFields, type HeldEvent, type Taker } from './store.js'

export const GROUP = 'senders'
/** What a read riding on a write takes beyond the write's own events. */
const READ_EXTRA = 32

export type StreamEntry = [id: string, fields: string[] | null]

export interface QueueStreamOptions {
  client: Redis | Cluster
  consumer: string
  log: FastifyBaseLogger
}

export class QueueStream {
  groupReady = false
  claimCursor = '0-0'
  length = 0
  /** Writes by this instance, and how many of them a read had seen when it found nothing more new. */
  writes = 0
  writesRead = 0
  /** Entries never to be sent again, acknowledged and deleted with the next write or at the turn's end. */
  private done: string[] = []
  private forgetScheduled = false

  constructor (readonly key: string, readonly index: number, private readonly opts: QueueStreamOptions) {}

  /** Queues `events`; with a taker whose dispatcher has room, reads what is new in the same round trip. */
  async write (events: WebhookEvent[], taker: Taker | null): Promise<void> {
    const pipeline = this.opts.client.pipeline()
    const forgotten = this.forgetInto(pipeline)
    for (const event of events) pipeline.xadd(this.key, '*', ...eventFields(event))
    // Room for this write's events, and a little backlog (other instances' events, read in full anyway every FULL_READ_MS).
    const reserved = taker !== null && this.groupReady ? taker.reserve(events.length + READ_EXTRA) : 0
    if (reserved > 0) pipeline.xreadgroup('GROUP', GROUP, this.opts.consumer, 'COUNT', reserved, 'STREAMS', this.key, '>')
    const writes = ++this.writes
    let results: Array<[Error | null, unknown]> | null = null
    try {
      results = await pipeline.exec()
    } finally {
      if (reserved > 0) this.accept(taker as Taker, reserved, results?.at(-1), writes)
    }
    if (results === null) throw new Error('the webhook queue write was not answered')
    const failedForget = results.slice(0, forgotten).find(([err]) => err !== null)?.[0]
    if (failedForget != null) this.forgetFailed(failedForget)
    const failed = results.slice(forgotten, forgotten + events.length).find(([err]) => err !== null)?.[0]
    if (failed != null) throw failed
  }

  /** Done with the entry for good: it leaves the stream with the next write, or at the turn's end. */
  forget (id: string): void {
    this.done.push(id)
    if (this.forgetScheduled) return
    this.forgetScheduled = true
    setImmediate(() => {
      this.forgetScheduled = false
      if (this.done.length === 0) return
      const pipeline = this.opts.client.pipeline()
      this.forgetInto(pipeline)
      pipeline.exec().then(results => {
        const failed = results?.find(([err]) => err !== null)
        if (failed !== undefined) this.forgetFailed(failed[0] as Error)
      }, (err: Error) => this.forgetFailed(err))
    })
  }

  /** Adds the entries that are events to `into` (as refs `index/id`); returns how many entries there were. */
  collect (entries: StreamEntry[], into: HeldEvent[]): number {
    for (const [id, fields] of entries) {
      const event = fields === null ? null : eventFromFields(fields)
      // Not one of ours (or deleted meanwhile): out of the way, so it is not taken again.
      if (event === null) this.forget(id)
      else into.push({ ref: `${this.index}/${id}`, event })
    }
    return entries.length
  }

  /**
   * Collects what an XREADGROUP of at most `asked` entries, sent after write number `writes`,
   * found. Fewer than asked: everything new was read, up to that write's events.
   */
  readNew (reply: Array<[string, StreamEntry[]]> | null, asked: number, writes: number, into: HeldEvent[]): void {
    const entries = reply?.[0][1] ?? []
    this.collect(entries, into)
    if (entries.length < asked) this.writesRead = writes
  }

  /** A read failed: NOGROUP means the stream was removed (Redis flushed or restarted empty), and the group with it. */
  readFailed (err: unknown): void {
    if (err instanceof Error && err.message.includes('NOGROUP')) this.groupReady = false
  }

  async ensureGroup (): Promise<void> {
    if (this.groupReady) return
    try {
      // From the stream's start: nothing queued before the group existed is skipped.
      await this.opts.client.xgroup('CREATE', this.key, GROUP, '0', 'MKSTREAM')
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err
    }
    this.groupReady = true
  }

  /** One XACK and one XDEL for everything done so far; returns the commands added. */
  private forgetInto (pipeline: ReturnType<QueueStreamOptions['client']['pipeline']>): number {
    if (this.done.length === 0) return 0
    const ids = this.done
    this.done = []
    pipeline.xack(this.key, GROUP, ...ids)
    pipeline.xdel(this.key, ...ids)
    return 2
  }

  private forgetFailed (err: Error): void {
    // Not acknowledged in Redis: the entries are sent again after CLAIM_IDLE_MS, with the same ids.
    this.opts.log.warn({ err }, 'acknowledging webhook events in Redis failed')
  }

  private accept (taker: Taker, reserved: number, result: [Error | null, unknown] | undefined, writes: number): void {
    const taken: HeldEvent[] = []
    if (result !== undefined && result[0] === null) this.readNew(result[1] as Array<[string, StreamEntry[]]> | null, reserved, writes, taken)
    else this.readFailed(result?.[0])
    taker.accept(reserved, taken)
  }
}
