/**
 * Read cursors and room positions in Redis, shared by every instance.
 *
 * A user's cursors are one hash on the user's own slot (layout.ts), moved by one script
 * (read-advance.lua) that only ever moves a cursor forward: racing `read` frames from two sockets,
 * or a `read` racing the user's own message, cannot move it back.
 *
 * Rooms' positions live on the rooms' slots, spread over a Cluster's shards. `tops` groups the
 * rooms by the shard that owns them and reads each group with one script call (room-tops.lua),
 * all groups at once: one round trip per shard, whatever the number of rooms.
 */
import type { Cluster, Redis } from 'ioredis'
import type { Position } from '../history/history-store.js'
import type { RedisLayout } from '../redis/layout.js'
import { defineScripts, type ScriptedRedis } from '../redis/scripts.js'
import { shardOfSlot } from '../redis/shards.js'
import type { Advanced, CursorMove, CursorStore, RoomTops } from './stores.js'

/** Rooms one room-tops call reads at most: a call holds Redis for its whole batch. */
const TOPS_BATCH = 500

export interface RedisReadStateOptions {
  client: Redis | Cluster
  layout: RedisLayout
  /** READ_STATE_TTL_SEC. */
  ttlSec: number
  /** HISTORY_TTL_SEC: an empty room's new epoch expires as a history would. */
  historyTtlSec: number
  /** A fresh epoch for a room with no history. */
  newEpoch: () => string
}

export class RedisCursors implements CursorStore {
  private readonly client: ScriptedRedis

  constructor (private readonly opts: RedisReadStateOptions) {
    this.client = defineScripts(opts.client)
  }

  async advance (user: string, moves: CursorMove[]): Promise<Advanced[]> {
    const args: Array<string | number> = [this.opts.ttlSec]
    for (const { room, cursor } of moves) args.push(room, cursor.epoch, cursor.offset)
    const reply = await this.client.chatReadAdvance(this.opts.layout.readCursors(user), ...args)
    return reply.map(([moved, offset, epoch]) => ({ moved: moved === 1, cursor: { epoch: String(epoch), offset: Number(offset) } }))
  }

  async all (user: string): Promise<Map<string, Position>> {
    const stored = await this.client.hgetall(this.opts.layout.readCursors(user))
    const cursors = new Map<string, Position>()
    for (const [room, value] of Object.entries(stored)) {
      const space = value.lastIndexOf(' ')
      const offset = Number(value.slice(space + 1))
      if (space > 0 && Number.isSafeInteger(offset)) cursors.set(room, { epoch: value.slice(0, space), offset })
    }
    return cursors
  }

  close (): void {}
}

export class RedisTops implements RoomTops {
  private readonly client: ScriptedRedis

  constructor (private readonly opts: RedisReadStateOptions) {
    this.client = defineScripts(opts.client)
  }

  async tops (rooms: string[]): Promise<Position[]> {
    const groups = this.byShard(rooms)
    const answers = await Promise.all(groups.map(group => this.readGroup(group)))
    const byRoom = new Map<string, Position>()
    answers.forEach((positions, g) => groups[g].forEach((room, i) => byRoom.set(room, positions[i])))
    return rooms.map(room => byRoom.get(room) as Position)
  }

  /** The rooms grouped by the master of their slot (one group on a single Redis), in batches. */
  private byShard (rooms: string[]): string[][] {
    const { client, layout } = this.opts
    const open = new Map<string, string[]>()
    const batches: string[][] = []
    for (const room of new Set(rooms)) {
      const shard = shardOfSlot(client, layout.slot(layout.meta(room)))
      let batch = open.get(shard)
      if (batch === undefined || batch.length === TOPS_BATCH) {
        open.set(shard, batch = [])
        batches.push(batch)
      }
      batch.push(room)
    }
    return batches
  }

  private async readGroup (rooms: string[]): Promise<Position[]> {
    try {
      return await this.call(rooms)
    } catch (err) {
      // A slot moved since the client's map was made (the script may only read local keys), or
      // the group met some other refusal: one call per room, each routed on its own.
      if (rooms.length === 1) throw err
      return Promise.all(rooms.map(async room => (await this.call([room]))[0]))
    }
  }

  private async call (rooms: string[]): Promise<Position[]> {
    const { layout, historyTtlSec, newEpoch } = this.opts
    const args: Array<string | number> = [historyTtlSec]
    for (const room of rooms) args.push(layout.meta(room), layout.log(room), newEpoch())
    const reply = await this.client.chatRoomTops(layout.meta(rooms[0]), ...args)
    return rooms.map((_, i) => ({ epoch: String(reply[2 * i]), offset: Number(reply[2 * i + 1]) }))
  }
}
