/**
 * The queue in Redis: one stream, `${prefix}:{webhooks}:queue`, read by every instance through one
 * consumer group. An event is XADDed before anything is sent; an instance reads at most what it
 * may hold (XREADGROUP), and the entries stay in the group's pending list, under its name, until
 * it XACKs (and XDELs) them once acknowledged or dropped. While it retries one it renews its claim
 * (XCLAIM to itself) every KEEP_MS; an instance that was killed renews nothing, and after
 * CLAIM_IDLE_MS another takes its entries over with XAUTOCLAIM and sends them, with the same ids.
 *
 * The stream's name carries one hash tag, so on a Cluster it lives on one shard, like the global
 * channels. Every command goes through the client's command deadline (REDIS_COMMAND_TIMEOUT_MS).
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { WebhookEvent } from './events.js'
import { eventFields, eventFromFields, type HeldEvent, type WebhookStore } from './store.js'

/** How long an entry may sit unrenewed in a consumer's pending list before another instance takes it. */
export const CLAIM_IDLE_MS = 5000
/** How often an instance renews its claim on the entries it holds (well under CLAIM_IDLE_MS). */
export const KEEP_MS = 1000
/** How often an instance looks for entries a dead one held. */
export const CLAIM_EVERY_MS = 1000

const GROUP = 'senders'

type StreamEntry = [id: string, fields: string[] | null]

export interface RedisStoreOptions {
  client: Redis | Cluster
  prefix: string
  consumer: string
  log: FastifyBaseLogger
}

export function webhookStreamKey (prefix: string): string {
  return `${prefix}:{webhooks}:queue`
}

export class RedisStore implements WebhookStore {
  readonly durable = true
  readonly key: string
  private groupReady = false
  private claimCursor = '0-0'
  private lastClaim = 0
  private length = 0

  constructor (private readonly opts: RedisStoreOptions) {
    this.key = webhookStreamKey(opts.prefix)
  }

  async add (events: WebhookEvent[]): Promise<void> {
    // One pipeline per turn's events: one round trip, whatever their number.
    const pipeline = this.opts.client.pipeline()
    for (const event of events) pipeline.xadd(this.key, '*', ...eventFields(event))
    const results = await pipeline.exec()
    const failed = results?.find(([err]) => err !== null)
    if (results === null || failed !== undefined) throw failed?.[0] ?? new Error('the webhook queue write was not answered')
  }

  async take (max: number): Promise<HeldEvent[]> {
    if (max <= 0) return []
    await this.ensureGroup()
    const { client, consumer } = this.opts
    const taken: HeldEvent[] = []
    try {
      if (Date.now() - this.lastClaim >= CLAIM_EVERY_MS) {
        this.lastClaim = Date.now()
        const [cursor, entries] = await client.xautoclaim(this.key, GROUP, consumer, CLAIM_IDLE_MS, this.claimCursor, 'COUNT', max) as [string, StreamEntry[]]
        this.claimCursor = cursor
        this.collect(entries, taken)
        if (entries.length > 0) this.opts.log.info({ events: entries.length }, 'webhook events held by an instance that stopped renewing them were taken over')
      }
      if (taken.length < max) {
        const reply = await client.xreadgroup('GROUP', GROUP, consumer, 'COUNT', max - taken.length, 'STREAMS', this.key, '>') as Array<[string, StreamEntry[]]> | null
        if (reply !== null) this.collect(reply[0][1], taken)
      }
      this.length = await client.xlen(this.key)
    } catch (err) {
      // The stream was removed (Redis flushed or restarted empty): the group goes with it.
      if (err instanceof Error && err.message.includes('NOGROUP')) this.groupReady = false
      throw err
    }
    return taken
  }

  done (held: HeldEvent): void {
    const pipeline = this.opts.client.pipeline()
    pipeline.xack(this.key, GROUP, held.ref)
    pipeline.xdel(this.key, held.ref)
    pipeline.exec().catch((err: Error) => {
      // Not acknowledged in Redis: the entry is sent again after CLAIM_IDLE_MS, with the same id.
      this.opts.log.warn({ err }, 'acknowledging a webhook event in Redis failed')
    })
  }

  keep (held: HeldEvent[]): void {
    if (held.length === 0) return
    // ioredis's typings miss the (ids..., JUSTID) form.
    this.opts.client.call('XCLAIM', this.key, GROUP, this.opts.consumer, 0, ...held.map(h => h.ref), 'JUSTID').catch((err: Error) => {
      this.opts.log.debug({ err }, 'renewing the claim on webhook events failed')
    })
  }

  waiting (): number {
    return this.length
  }

  close (): void {}

  private collect (entries: StreamEntry[], into: HeldEvent[]): void {
    for (const [ref, fields] of entries) {
      const event = fields === null ? null : eventFromFields(fields)
      if (event === null) {
        // Not one of ours (or deleted meanwhile): out of the way, so it is not taken again.
        this.done({ ref, event: { id: '', type: 'message.stored', timestamp: 0, body: '' } })
        continue
      }
      into.push({ ref, event })
    }
  }

  private async ensureGroup (): Promise<void> {
    if (this.groupReady) return
    try {
      // From the stream's start: nothing queued before the group existed is skipped.
      await this.opts.client.xgroup('CREATE', this.key, GROUP, '0', 'MKSTREAM')
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err
    }
    this.groupReady = true
  }
}
