/**
 * History in Redis, shared by every instance: numbering, storing and publishing a message is one
 * Lua script (src/redis/lua/append-one.lua), so the order in which instances receive a room's
 * messages is their offset order. The messages of one event-loop turn go in one script call (group
 * commit: append-batch.lua, per hash slot on a Cluster; src/redis/turn-batch.ts), acknowledged by
 * one reply and, with HISTORY_MIN_REPLICAS, one WAIT. Stored frames travel as Buffers both ways:
 * never decoded or parsed here.
 */
import type { Cluster, Redis } from 'ioredis'
import type { RedisLayout } from '../redis/layout.js'
import { ReplicaWaits } from '../redis/replica-wait.js'
import { defineScripts, type ScriptedRedis } from '../redis/scripts.js'
import { TurnBatch, type TurnBatchLimits } from '../redis/turn-batch.js'
import type { AppendResult, HistoryStore, PageResult, Position, SinceResult, StoredMessageDraft } from './history-store.js'

export interface RedisHistoryOptions {
  client: Redis | Cluster
  layout: RedisLayout
  size: number
  ttlSec: number
  /** A fresh name for a history that starts (unique across instances and restarts). */
  newEpoch: () => string
  /** HISTORY_MIN_REPLICAS: an append resolves only once this many replicas hold it (0: at once). */
  minReplicas?: number
  /** HISTORY_REPLICA_TIMEOUT_MS. */
  replicaTimeoutMs?: number
  /** REDIS_COMMAND_TIMEOUT_MS, for the WAITs sent to a Cluster's node connections. */
  commandTimeoutMs?: number
  /** How much of a replay one script call reads (tests make it small); REPLAY_PAGE by default. */
  replayPage?: ReplayPage
  /** How much one group-commit call carries at most (tests make it small); APPEND_BATCH by default. */
  appendBatch?: TurnBatchLimits
}

export interface ReplayPage {
  messages: number
  /** A page ends with the first message that reaches this many bytes. */
  bytes: number
}

/**
 * A `since` replay is read this much per script call: each call holds Redis for one page only,
 * however long the history (HISTORY_SIZE goes up to 100000 messages of up to 64 KiB).
 */
export const REPLAY_PAGE: ReplayPage = { messages: 500, bytes: 512 * 1024 }

/**
 * How long a key the service made is kept. It only has to outlive a retry inside the service (a
 * Cluster's re-send after a dropped node connection, bounded by the command deadline), and every
 * message has one: kept as long as a sender's key, they would cost Redis memory at every rate.
 */
const SERVICE_KEY_TTL_SEC = 60

/**
 * One group-commit call carries at most this much: a burst is split into calls that each hold
 * Redis briefly (a few ms at most), and the call's arguments stay small next to Redis's limits.
 */
export const APPEND_BATCH: TurnBatchLimits = { items: 256, bytes: 1024 * 1024 }

/** One message of a group commit: its keys and its arguments, as append-batch.lua reads them. */
interface AppendCall {
  meta: string
  log: string
  idem: string
  messageId: string
  frameHead: string
  channel: string
  seenEpoch: string
  seenOffset: number
  keyTtl: number
}

export class RedisHistory implements HistoryStore {
  private readonly client: ScriptedRedis
  private readonly layout: RedisLayout
  private readonly size: number
  private readonly ttlSec: number
  private readonly newEpoch: () => string
  private readonly replayPage: ReplayPage
  private readonly replicaWaits: ReplicaWaits | null
  /**
   * 1 when this instance's appends stamp the room with the Redis history that numbered them
   * (append-one.lua): without durable acknowledgements, where a restart or a failover may take
   * acknowledged offsets, so that a room found stamped by another history moves to a new epoch.
   * With them, the acknowledged offsets are on the replicas and a failover keeps the room's epoch
   * (docs/guarantees.md says what holds in each setting).
   */
  private readonly stampHistory: 0 | 1
  private readonly cluster: boolean
  /** Appends waiting for the end of the turn, by slot (all in slot 0 on one Redis). */
  readonly appends: TurnBatch<AppendCall, AppendResult>

  constructor (opts: RedisHistoryOptions) {
    this.client = defineScripts(opts.client)
    this.layout = opts.layout
    this.size = opts.size
    this.ttlSec = opts.ttlSec
    this.newEpoch = opts.newEpoch
    this.replayPage = opts.replayPage ?? REPLAY_PAGE
    const replicas = opts.minReplicas ?? 0
    this.replicaWaits = replicas > 0 ? new ReplicaWaits(opts.client, replicas, opts.replicaTimeoutMs ?? 500, opts.commandTimeoutMs ?? 2000) : null
    this.stampHistory = replicas > 0 ? 0 : 1
    this.cluster = 'isCluster' in opts.client && opts.client.isCluster
    this.appends = new TurnBatch((slot, calls) => this.commit(slot, calls), opts.appendBatch ?? APPEND_BATCH)
  }

  available (): boolean {
    return this.client.status === 'ready'
  }

  append (draft: StoredMessageDraft): Promise<AppendResult> {
    const { room, key, seen } = draft
    const meta = this.layout.meta(room)
    const call: AppendCall = {
      meta,
      log: this.layout.log(room),
      idem: key === undefined ? this.layout.messageIdKey(room, draft.messageId) : this.layout.messageKey(room, key),
      messageId: draft.messageId,
      frameHead: draft.frameHead,
      channel: this.layout.room(room),
      seenEpoch: seen?.epoch ?? '',
      seenOffset: seen?.offset ?? 0,
      keyTtl: key === undefined ? Math.min(SERVICE_KEY_TTL_SEC, this.ttlSec) : this.ttlSec
    }
    // One Redis takes every room in one call; a Cluster one call per slot. The slot is needed on
    // one Redis too when WAITing on it, but any number serves as the group there.
    return this.appends.add(this.cluster ? this.layout.slot(meta) : 0, call, draft.frameHead.length)
  }

  /**
   * One group-commit call: the turn's messages of one slot, stored in order. A message that failed
   * in the script is an Error of its own; the others are acknowledged, after one WAIT for them all.
   */
  private async commit (slot: number, calls: AppendCall[]): Promise<Array<AppendResult | Error>> {
    const keys: string[] = []
    const args: Array<string | number> = [this.size, this.ttlSec, this.layout.roomPublish, this.stampHistory]
    for (const c of calls) {
      keys.push(c.meta, c.log, c.idem)
      args.push(c.messageId, c.frameHead, c.channel, c.seenEpoch, c.seenOffset, c.keyTtl)
    }
    const reply = await this.client.chatAppendBatchBuffer(keys.length, ...keys, ...args)
    if (this.replicaWaits !== null) {
      // Durable: a WAIT sent from now on, on the connection of the slot's master, covers the batch.
      // Both are taken once the script has run: before, a NOSCRIPT's EVAL resend or a Cluster's
      // redirection could send the script after a WAIT that would then be taken to cover it.
      const conn = this.replicaWaits.connectionOf(this.cluster ? slot : this.layout.slot(calls[0].meta))
      if (conn === null) throw new Error('no connection to the master of the room\'s slot to WAIT on')
      const batch = this.replicaWaits.batchOf(conn)
      await batch.wait(batch.ticket())
    }
    return calls.map((_, i) => {
      const status = Number(reply[4 * i])
      if (status < 0) return new Error(`storing the message failed in Redis: ${String(reply[4 * i + 1])}`)
      return {
        stored: status === 1,
        messageId: String(reply[4 * i + 1]),
        offset: Number(reply[4 * i + 2]),
        epoch: String(reply[4 * i + 3])
      }
    })
  }

  async fence (room: string, seen: Position): Promise<void> {
    await this.client.chatFence(this.layout.meta(room), this.layout.log(room), seen.epoch, seen.offset, this.newEpoch(), this.ttlSec)
  }

  /**
   * The room's position and, with `from`, every message after it up to that position, read a page
   * per script call. Each page checks the epoch and that nothing it needs was trimmed; a history
   * lost or trimmed between two pages makes the whole replay not recovered, never a partial one.
   * Messages stored after the first page's position are not read: they reach the room live.
   */
  async since (room: string, from: Position | null): Promise<SinceResult> {
    const first = await this.sincePage(room, from, null)
    const position = first.position
    if (from === null || !first.recovered) return { position, recovered: false, messages: [] }
    const messages = first.messages
    let offset = from.offset + messages.length
    while (offset < position.offset) {
      const next = await this.sincePage(room, { epoch: from.epoch, offset }, position.offset)
      // An empty page cannot happen with a recovered one short of `last`; guard the loop anyway.
      if (!next.recovered || next.messages.length === 0) return { position, recovered: false, messages: [] }
      for (const frame of next.messages) messages.push(frame)
      offset += next.messages.length
    }
    return { position, recovered: true, messages }
  }

  async page (room: string, limit: number, before: number | null): Promise<PageResult> {
    const reply = await this.client.chatPageBuffer(this.layout.meta(room), this.layout.log(room),
      this.newEpoch(), this.ttlSec, limit, before ?? '')
    return { position: { epoch: String(reply[0]), offset: Number(reply[1]) }, messages: reply.slice(2) as Buffer[] }
  }

  close (): void {
    this.appends.flush()
  }

  /** One call of the since script: the position, and up to a page after `from` (up to `last`). */
  async sincePage (room: string, from: Position | null, last: number | null): Promise<SinceResult> {
    const reply = await this.client.chatSinceBuffer(this.layout.meta(room), this.layout.log(room),
      this.newEpoch(), this.ttlSec, from === null ? '' : from.offset, from === null ? '' : from.epoch,
      last ?? '', this.replayPage.messages, this.replayPage.bytes)
    return {
      position: { epoch: String(reply[0]), offset: Number(reply[1]) },
      recovered: from !== null && reply[2] === 1,
      messages: reply.slice(3) as Buffer[]
    }
  }
}
