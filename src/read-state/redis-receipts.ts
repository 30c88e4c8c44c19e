/**
 * Read receipts through Redis, ordered there. The cursor moves on the user's slot and its reply
 * comes back to whichever instance asked; two instances moving one user's cursor would publish
 * their receipts in the order their replies arrived, and a member could hear 60 and then 53. So
 * the receipt is published by a script on the room's slot (read-receipt.lua) that lets one out
 * only when it is past the last one of the same user and epoch, and every instance, the reader's
 * included, delivers it from Redis as it does member events.
 */
import type { Cluster, Redis } from 'ioredis'
import type { Position } from '../history/history-store.js'
import type { RedisLayout } from '../redis/layout.js'
import { defineScripts, type ScriptedRedis } from '../redis/scripts.js'
import { receiptFrame, type ReadStateLog, type ReceiptSink } from './read-state.js'

/**
 * How long a room keeps each user's last receipt: the gate orders receipts that race, which are
 * moments apart; a room nobody reads for an hour holds nothing.
 */
const RECEIPT_GATE_TTL_SEC = 3600

export interface RedisReceiptsOptions {
  client: Redis | Cluster
  layout: RedisLayout
  log: ReadStateLog
}

export class RedisReceipts implements ReceiptSink {
  private readonly client: ScriptedRedis

  constructor (private readonly opts: RedisReceiptsOptions) {
    this.client = defineScripts(opts.client)
  }

  /** Resolves to whether it was published (the read state does not wait for it; tests do). */
  async send (room: string, user: string, cursor: Position): Promise<boolean> {
    const { layout, log } = this.opts
    try {
      const published = await this.client.chatReadReceipt(
        layout.readReceipts(room), RECEIPT_GATE_TTL_SEC, user, cursor.epoch, cursor.offset,
        layout.room(room), layout.roomPublish, receiptFrame(room, user, cursor)
      )
      return published === 1
    } catch (err) {
      log.debug({ err, room }, 'a read receipt was not published') // transient: at most once
      return false
    }
  }
}
