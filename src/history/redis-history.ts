/**
 * History in Redis, shared by every instance: numbering, storing and publishing a message is one
 * Lua script (src/redis/lua/append.lua), so the order in which instances receive a room's messages
 * is their offset order. Stored frames travel as Buffers both ways: never decoded or parsed here.
 */
import type { Cluster, Redis } from 'ioredis'
import type { RedisLayout } from '../redis/layout.js'
import { defineScripts, type ScriptedRedis } from '../redis/scripts.js'
import type { AppendResult, HistoryStore, PageResult, Position, SinceResult, StoredMessageDraft } from './history-store.js'

export interface RedisHistoryOptions {
  client: Redis | Cluster
  layout: RedisLayout
  size: number
  ttlSec: number
  /** A fresh name for a history that starts (unique across instances and restarts). */
  newEpoch: () => string
}

export class RedisHistory implements HistoryStore {
  private readonly client: ScriptedRedis
  private readonly layout: RedisLayout
  private readonly size: number
  private readonly ttlSec: number
  private readonly newEpoch: () => string

  constructor (opts: RedisHistoryOptions) {
    this.client = defineScripts(opts.client)
    this.layout = opts.layout
    this.size = opts.size
    this.ttlSec = opts.ttlSec
    this.newEpoch = opts.newEpoch
  }

  available (): boolean {
    return this.client.status === 'ready'
  }

  async append (draft: StoredMessageDraft): Promise<AppendResult> {
    const { room, key } = draft
    const args = [this.size, this.ttlSec, draft.messageId, draft.frameHead, this.layout.room(room), this.layout.roomPublish]
    const meta = this.layout.meta(room)
    const log = this.layout.log(room)
    const reply = key === undefined
      ? await this.client.chatAppendBuffer(meta, log, ...args)
      : await this.client.chatAppendKeyedBuffer(meta, log, this.layout.messageKey(room, key), ...args)
    return {
      stored: reply[0] === 1,
      messageId: String(reply[1]),
      offset: Number(reply[2]),
      epoch: String(reply[3])
    }
  }

  async since (room: string, from: Position | null): Promise<SinceResult> {
    const reply = await this.client.chatSinceBuffer(this.layout.meta(room), this.layout.log(room),
      this.newEpoch(), this.ttlSec, from === null ? '' : from.offset, from === null ? '' : from.epoch)
    return {
      position: { epoch: String(reply[0]), offset: Number(reply[1]) },
      recovered: from !== null && reply[2] === 1,
      messages: reply.slice(3) as Buffer[]
    }
  }

  async page (room: string, limit: number, before: number | null): Promise<PageResult> {
    const reply = await this.client.chatPageBuffer(this.layout.meta(room), this.layout.log(room),
      this.newEpoch(), this.ttlSec, limit, before ?? '')
    return { position: { epoch: String(reply[0]), offset: Number(reply[1]) }, messages: reply.slice(2) as Buffer[] }
  }

  close (): void {}
}
