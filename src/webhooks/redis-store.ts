/**
 * The queue in Redis: one stream (one Redis, Sentinel) or one per shard tag (a Cluster; names and
 * routing in queue-streams.ts), each read by every instance through one consumer group. An event
 * is XADDed before anything is sent; an instance reads at most what it may hold (XREADGROUP), and
 * the entries stay in the group's pending list, under its name, until it XACKs (and XDELs) them
 * once acknowledged or dropped. While it retries one it renews its claim (XCLAIM to itself) every
 * KEEP_MS; an instance that was killed renews nothing, and after CLAIM_IDLE_MS another takes its
 * entries over with XAUTOCLAIM, stream by stream, and sends them, with the same ids.
 *
 * Each stream is written with a pipeline of its own (queue-stream.ts: one per stream an event-loop
 * turn touched, all in flight together; a Cluster cannot pipeline across slots), which also
 * forgets what was answered and reads what is new for the dispatcher. To keep the rest cheap, a
 * wake-up reads only the streams this instance wrote to and did not read to the end; every stream
 * is read at least every FULL_READ_MS (events other instances queued). Every command goes through
 * the client's command deadline (REDIS_COMMAND_TIMEOUT_MS).
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { WebhookEvent } from './events.js'
import { GROUP, QueueStream, type StreamEntry } from './queue-stream.js'
import { shardStreamIndex, webhookStreamKeys } from './queue-streams.js'
import type { HeldEvent, Taker, WebhookStore } from './store.js'

export { webhookStreamKey } from './queue-streams.js'

/** How long an entry may sit unrenewed in a consumer's pending list before another instance takes it. */
export const CLAIM_IDLE_MS = 5000
/** How often an instance renews its claim on the entries it holds (well under CLAIM_IDLE_MS). */
export const KEEP_MS = 1000
/** How often an instance looks for entries a dead one held. */
export const CLAIM_EVERY_MS = 1000
/** How often every stream is read, not only those this instance wrote to (the dispatcher polls as often). */
const FULL_READ_MS = 500

export interface RedisStoreOptions {
  client: Redis | Cluster
  prefix: string
  consumer: string
  log: FastifyBaseLogger
}

export class RedisStore implements WebhookStore {
  readonly durable = true
  private readonly streams: readonly QueueStream[]
  private lastClaim = 0
  private lastFullRead = 0
  /** The dispatcher, which a write reads new events for (queue-stream.ts). */
  taker: Taker | null = null
  /** Where the next take starts: each stream in turn goes first, so a busy one starves none. */
  private start = 0

  constructor (private readonly opts: RedisStoreOptions) {
    this.streams = webhookStreamKeys(opts.prefix, opts.client.isCluster).map((key, i) => new QueueStream(key, i, opts))
  }

  async add (events: WebhookEvent[]): Promise<void> {
    if (this.streams.length === 1) return await this.streams[0].write(events, this.taker)
    const byStream = new Map<QueueStream, WebhookEvent[]>()
    for (const event of events) {
      const stream = this.streamFor(event)
      const list = byStream.get(stream)
      if (list === undefined) byStream.set(stream, [event])
      else list.push(event)
    }
    // The batch fails if one stream's write did: all its sends are answered `unavailable` and
    // resent, so the events the other streams took arrive twice, with the same ids.
    await Promise.all([...byStream].map(([stream, list]) => stream.write(list, this.taker)))
  }

  async take (max: number): Promise<HeldEvent[]> {
    if (max <= 0) return []
    const taken: HeldEvent[] = []
    const now = Date.now()
    const claim = now - this.lastClaim >= CLAIM_EVERY_MS
    if (claim) this.lastClaim = now
    const full = now - this.lastFullRead >= FULL_READ_MS
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
    stream.forget(id)
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

  /** Takes over what a dead instance held of one stream (`claim`), then reads what is new in it (`read`). */
  private async takeFrom (stream: QueueStream, max: number, claim: boolean, read: boolean, into: HeldEvent[]): Promise<void> {
    await stream.ensureGroup()
    const { client, consumer } = this.opts
    try {
      let room = max
      if (claim) {
        const [cursor, entries] = await client.xautoclaim(stream.key, GROUP, consumer, CLAIM_IDLE_MS, stream.claimCursor, 'COUNT', room) as [string, StreamEntry[]]
        stream.claimCursor = cursor
        room -= stream.collect(entries, into)
        if (entries.length > 0) this.opts.log.info({ events: entries.length, stream: stream.key }, 'webhook events held by an instance that stopped renewing them were taken over')
      }
      if (!read || room <= 0) return
      const writes = stream.writes
      const [reply, length] = await Promise.all([
        client.xreadgroup('GROUP', GROUP, consumer, 'COUNT', room, 'STREAMS', stream.key, '>') as Promise<Array<[string, StreamEntry[]]> | null>,
        // The length is a gauge (waiting): read with the claims, once a second, not at every read.
        claim ? client.xlen(stream.key).catch(() => stream.length) : stream.length
      ])
      // All that was new is read: a wake-up need not look here again until this instance writes.
      stream.readNew(reply, room, writes, into)
      stream.length = length
    } catch (err) {
      stream.readFailed(err)
      throw err
    }
  }

  /** A ref is `index/entryId`: entry ids of different streams may be equal. */
  private locate (ref: string): [QueueStream, string] {
    const at = ref.indexOf('/')
    return [this.streams[Number(ref.slice(0, at))], ref.slice(at + 1)]
  }
}
