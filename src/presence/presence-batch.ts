/**
 * Presence's group commit: the joins and leaves of one event-loop turn, of every room, go to Redis
 * in one script call (presence-batch.lua; one per hash slot on a Cluster), as room messages do
 * (src/redis/turn-batch.ts), and while a call is under way the next ones wait for it (below). A
 * churn of connections costs Redis one call per turn at most, not one per join and one per leave.
 * Each change still settles on its own: a failed one rejects alone.
 */
import type { RedisLayout } from '../redis/layout.js'
import type { ScriptedRedis } from '../redis/scripts.js'
import { TurnBatch } from '../redis/turn-batch.js'

export interface PresenceChange {
  kind: 'j' | 'l'
  room: string
  connectionId: string
  /** The member's JSON for a join; '' for a leave. */
  member: string
}

export interface PresenceChangeResult {
  /** The room was changed, and heard `member_joined` / `member_left`. */
  announced: boolean
  /** After a join: ms until the room's earliest lease expires (-1: none); -1 after a leave. */
  untilEarliestMs: number
}

/**
 * Per call at most: a churn burst is split into calls that each hold Redis briefly. One call in
 * flight at a time (per slot): under a churn the changes of the turns that pass while a call is
 * under way leave together when it is answered, so a connection's joins and leaves cost Redis a
 * fraction of a call, and each call's member events reach a room's members in one read. Nothing
 * waits on these writes (`joined` and `welcome` are sent first), and a read of presence or a
 * renewal flushes what waits before it (redis-presence.ts).
 */
const PRESENCE_BATCH = { items: 256, bytes: 256 * 1024, inFlight: 1 }

export class PresenceBatch {
  private readonly changes: TurnBatch<PresenceChange, PresenceChangeResult>
  private readonly cluster: boolean

  constructor (private readonly client: ScriptedRedis, private readonly layout: RedisLayout, private readonly leaseMs: number) {
    this.cluster = 'isCluster' in client && client.isCluster
    this.changes = new TurnBatch((_slot, changes) => this.commit(changes), PRESENCE_BATCH)
  }

  get calls (): number {
    return this.changes.calls
  }

  /** Writes what waits now, not at the end of the turn (at shutdown, ahead of the QUIT). */
  flush (): void {
    this.changes.flush()
  }

  /** The hash slot of a room's presence keys on a Cluster, where a call may only touch one; 0 on one Redis. */
  slotOf (room: string): number {
    return this.cluster ? this.layout.slot(this.layout.presence(room)) : 0
  }

  add (change: PresenceChange): Promise<PresenceChangeResult> {
    return this.changes.add(this.slotOf(change.room), change, change.member.length + change.room.length + 64)
  }

  private async commit (changes: PresenceChange[]): Promise<Array<PresenceChangeResult | Error>> {
    const { layout } = this
    const keys: string[] = []
    const args: Array<string | number> = [this.leaseMs, layout.roomPublish]
    for (const c of changes) {
      keys.push(layout.presence(c.room), layout.presenceLeases(c.room))
      args.push(c.kind, c.room, layout.room(c.room), c.connectionId, c.member)
    }
    const reply = await this.client.chatPresenceBatch(keys.length, ...keys, ...args)
    return changes.map((_, i) => Number(reply[3 * i]) < 0
      ? new Error(`a presence change failed in Redis: ${String(reply[3 * i + 1])}`)
      : { announced: Number(reply[3 * i + 1]) === 1, untilEarliestMs: Number(reply[3 * i + 2]) })
  }
}
