/**
 * The queue in Redis: one stream (one Redis, Sentinel) or one per shard tag (a Cluster; names and
 * routing in queue-streams.ts), each read by every instance through one consumer group. An event
 * is XADDed before anything is sent; an instance reads at most what it may hold (XREADGROUP), and
 * the entries stay in the group's pending list, under its name, until it XACKs (and XDELs) them
 * once acknowledged or dropped. While it retries one it renews its claim (XCLAIM to itself) every
 * KEEP_MS; an instance that was killed renews nothing, and after CLAIM_IDLE_MS another takes its
 * entries over with XAUTOCLAIM, stream by stream, and sends them, with the same ids.
 *
 * A Cluster cannot pipeline or read across slots, so there each stream is written with a pipeline
 * of its own (one per stream an event-loop turn touched, all in flight together) and read with
 * commands of its own. To keep that cheap, a wake-up after this instance queued events reads only
 * the streams it wrote to; every stream is read at least every FULL_READ_MS (events other
 * instances queued). Every command goes through the client's command deadline
 * (REDIS_COMMAND_TIMEOUT_MS).
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { WebhookEvent } from './events.js'
import { shardStreamIndex, webhookStreamKeys } from './queue-streams.js'
import { eventFields, eventFromFields, type HeldEvent, type WebhookStore } from './store.js'

export { webhookStreamKey } from './queue-streams.js'

/** How long an entry may sit unrenewed in a consumer's pending list before another instance takes it. */
export const CLAIM_IDLE_MS = 5000
/** How often an instance renews its claim on the entries it holds (well under CLAIM_IDLE_MS). */
export const KEEP_MS = 1000
/** How often an instance looks for entries a dead one held. */
export const CLAIM_EVERY_MS = 1000
/** How often every stream is read, not only those this instance wrote to (the dispatcher polls as often). */
const FULL_READ_MS = 500

const GROUP = 'senders'

type StreamEntry = [id: string, fields: string[] | null]

export interface RedisStoreOptions {
  client: Redis | Cluster
  prefix: string
  consumer: string
  log: FastifyBaseLogger
}

class QueueStream {
  groupReady = false
  claimCursor = '0-0'
  length = 0
  /** Entries done this turn, acknowledged and deleted together at its end (forgetDone). */
  done: string[] = []
  /** Writes by this instance, and how many of them a read had seen when it found nothing more new. */
  writes = 0
  writesRead = 0
  constructor (readonly key: string, readonly index: number) {}
}

export class RedisStore implements WebhookStore {
  readonly durable = true
  private readonly streams: readonly QueueStream[]
  private lastClaim = 0
  private lastFullRead = 0
  private forgetScheduled = false
  /** Where the next take starts: each stream in turn goes first, so a busy one starves none. */
  private start = 0

  constructor (private readonly opts: RedisStoreOptions) {
    this.streams = webhookStreamKeys(opts.prefix, opts.client.isCluster).map((key, i) => new QueueStream(key, i))
  }

  async add (events: WebhookEvent[]): Promise<void> {
    if (this.streams.length === 1) return await this.write(this.streams[0], events)
    const byStream = new Map<QueueStream, WebhookEvent[]>()
    for (const event of events) {
      const stream = this.streamFor(event)
      const list = byStream.get(stream)
      if (list === undefined) byStream.set(stream, [event])
      else list.push(event)
    }
    // The batch fails if one stream's write did: all its sends are answered `unavailable` and
    // resent, so the events the other streams took arrive twice, with the same ids.
    await Promise.all([...byStream].map(([stream, list]) => this.write(stream, list)))
  }

  async take (max: number): Promise<HeldEvent[]> {
    if (max <= 0) return []
    const taken: HeldEvent[] = []
    const now = Date.now()
    const claim = now - this.lastClaim >= CLAIM_EVERY_MS
    if (claim) this.lastClaim = now
    const full = this.streams.length === 1 || now - this.lastFullRead >= FULL_READ_MS
    if (full) this.lastFullRead = now
    const first = this.start
    this.start = (this.start + 1) % this.streams.length
    let failure: unknown = null
    for (let i = 0; i < this.streams.length && taken.length < max; i++) {
      const stream = this.streams[(first + i) % this.streams.length]
      const read = full || stream.writes !== stream.writesRead
      if (!claim && !read) continue
      try {
        await this.takeFrom(stream, max - taken.length, claim, read, taken)
      } catch (err) {
        // One stream's master unreachable (a Cluster failing over) holds up none of the others.
        failure ??= err
      }
    }
    if (failure !== null) {
      if (taken.length === 0) throw failure
      this.opts.log.warn({ err: failure }, 'reading part of the webhook queue failed')
    }
    return taken
  }

  done (held: HeldEvent): void {
    const [stream, id] = this.locate(held.ref)
    this.forgetAtTurnEnd(stream, [id])
  }

  keep (held: HeldEvent[]): void {
    const ids = new Map<QueueStream, string[]>()
    for (const { ref } of held) {
      const [stream, id] = this.locate(ref)
      const list = ids.get(stream)
      if (list === undefined) ids.set(stream, [id])
      else list.push(id)
    }
    for (const [stream, list] of ids) {
      // ioredis's typings miss the (ids..., JUSTID) form.
      this.opts.client.call('XCLAIM', stream.key, GROUP, this.opts.consumer, 0, ...list, 'JUSTID').catch((err: Error) => {
        this.opts.log.debug({ err }, 'renewing the claim on webhook events failed')
      })
    }
  }

  waiting (): number {
    let length = 0
    for (const stream of this.streams) length += stream.length
    return length
  }

  close (): void {}

  private streamFor (event: WebhookEvent): QueueStream {
    return this.streams.length === 1 ? this.streams[0] : this.streams[shardStreamIndex(event.room, event.id)]
  }

  private async write (stream: QueueStream, events: WebhookEvent[]): Promise<void> {
    // One pipeline per stream and turn: one round trip, whatever the number of events.
    const pipeline = this.opts.client.pipeline()
    for (const event of events) pipeline.xadd(stream.key, '*', ...eventFields(event))
    const results = await pipeline.exec()
    const failed = results?.find(([err]) => err !== null)
    if (results === null || failed !== undefined) throw failed?.[0] ?? new Error('the webhook queue write was not answered')
    stream.writes++
  }

  /** Takes over what a dead instance held of one stream (`claim`), then reads what is new in it (`read`). */
  private async takeFrom (stream: QueueStream, max: number, claim: boolean, read: boolean, into: HeldEvent[]): Promise<void> {
    await this.ensureGroup(stream)
    const { client, consumer } = this.opts
    try {
      let room = max
      if (claim) {
        const [cursor, entries] = await client.xautoclaim(stream.key, GROUP, consumer, CLAIM_IDLE_MS, stream.claimCursor, 'COUNT', room) as [string, StreamEntry[]]
        stream.claimCursor = cursor
        room -= this.collect(stream, entries, into)
        if (entries.length > 0) this.opts.log.info({ events: entries.length, stream: stream.key }, 'webhook events held by an instance that stopped renewing them were taken over')
      }
      if (!read || room <= 0) return
      const writes = stream.writes
      const [reply, length] = await Promise.all([
        client.xreadgroup('GROUP', GROUP, consumer, 'COUNT', room, 'STREAMS', stream.key, '>') as Promise<Array<[string, StreamEntry[]]> | null>,
        // The length is a gauge (waiting): read with the claims, once a second, not at every read.
        claim ? client.xlen(stream.key).catch(() => stream.length) : stream.length
      ])
      const entries = reply?.[0][1] ?? []
      this.collect(stream, entries, into)
      stream.length = length
      // All that was new is read: a wake-up need not look here again until this instance writes.
      if (entries.length < room) stream.writesRead = writes
    } catch (err) {
      // The stream was removed (Redis flushed or restarted empty): the group goes with it.
      if (err instanceof Error && err.message.includes('NOGROUP')) stream.groupReady = false
      throw err
    }
  }

  /** Adds the stream's entries that are events to `into`; returns how many entries there were. */
  private collect (stream: QueueStream, entries: StreamEntry[], into: HeldEvent[]): number {
    const junk: string[] = []
    for (const [id, fields] of entries) {
      const event = fields === null ? null : eventFromFields(fields)
      // Not one of ours (or deleted meanwhile): out of the way, so it is not taken again.
      if (event === null) junk.push(id)
      else into.push({ ref: `${stream.index}/${id}`, event })
    }
    if (junk.length > 0) this.forgetAtTurnEnd(stream, junk)
    return entries.length
  }

  /**
   * Entries never to be sent again are acknowledged and deleted at the end of the turn, all those
   * of a stream in one XACK and one XDEL: answers come back in bursts, and two commands per event
   * would cost Redis more than queueing it did.
   */
  private forgetAtTurnEnd (stream: QueueStream, ids: string[]): void {
    for (const id of ids) stream.done.push(id)
    if (this.forgetScheduled) return
    this.forgetScheduled = true
    setImmediate(this.forgetDone)
  }

  private readonly forgetDone = (): void => {
    this.forgetScheduled = false
    for (const stream of this.streams) {
      if (stream.done.length === 0) continue
      const ids = stream.done
      stream.done = []
      // One stream's keys share a slot: one pipeline, also on a Cluster.
      const pipeline = this.opts.client.pipeline()
      pipeline.xack(stream.key, GROUP, ...ids)
      pipeline.xdel(stream.key, ...ids)
      pipeline.exec().then(results => {
        const failed = results?.find(([err]) => err !== null)
        if (failed !== undefined) throw failed[0]
      }).catch((err: Error) => {
        // Not acknowledged in Redis: the entries are sent again after CLAIM_IDLE_MS, with the same ids.
        this.opts.log.warn({ err, events: ids.length }, 'acknowledging webhook events in Redis failed')
      })
    }
  }

  /** A ref is `index/entryId`: entry ids of different streams may be equal. */
  private locate (ref: string): [QueueStream, string] {
    const at = ref.indexOf('/')
    return [this.streams[Number(ref.slice(0, at))], ref.slice(at + 1)]
  }

  private async ensureGroup (stream: QueueStream): Promise<void> {
    if (stream.groupReady) return
    try {
      // From the stream's start: nothing queued before the group existed is skipped.
      await this.opts.client.xgroup('CREATE', stream.key, GROUP, '0', 'MKSTREAM')
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err
    }
    stream.groupReady = true
  }
}
