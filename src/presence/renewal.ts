/**
 * How a heartbeat renews the leases of an instance's members (redis-presence.ts `renew`): many
 * rooms per script call (presence-renew.lua), a bounded number of calls at a time.
 */
import type { RedisLayout } from '../redis/layout.js'
import type { ScriptedRedis } from '../redis/scripts.js'

/**
 * Leases renewed by one call at most, over as many rooms as they fill: a call holds Redis for a
 * fraction of a millisecond, and a huge room is renewed in several. One script per room cost Redis
 * more in the call than in its leases: an instance with 10 000 rooms of a few members each sent
 * 10 000 scripts a beat, more than a Redis sharing 2 cores got through before the leases ran out.
 */
export const RENEW_BATCH = 256

/**
 * Calls under way at most; the next goes out as one is answered. Commands on one connection run in
 * the order sent, so a heartbeat that sent all its renewals at once put the instance's appends and
 * history reads behind all of them: with 10 000 rooms on an instance, a second of Redis work or
 * more every beat. Now they wait behind this many calls (a few ms), while a heartbeat over 40 000
 * leases takes 160 calls, 20 round trips: on a starved machine a round trip can take 100 ms.
 */
export const RENEW_IN_FLIGHT = 8

/** A room's leases in one call: connectionId, member JSON, ... (all of them, or a share of a big room's). */
export interface RoomLeases {
  room: string
  pairs: string[]
}

/** What one room's renewal found. */
export interface RoomRenewal {
  room: string
  /** Leases that were missing, written again (and announced joined). */
  added: number
  /** Expired leases removed (each announced with `member_left`): their members' JSON. */
  removed: string[]
  /** Ms until the room's earliest lease expires; -1: none left. */
  untilEarliestMs: number
}

/**
 * The rooms in groups a call may take together: one shard's on a Cluster (`shardOf`, shards.ts,
 * is the same for every room on one Redis).
 */
export function roomsByShard (rooms: Iterable<string>, shardOf: (room: string) => string): Iterable<string[]> {
  const groups = new Map<string, string[]>()
  for (const room of rooms) {
    const shard = shardOf(room)
    const group = groups.get(shard)
    if (group === undefined) groups.set(shard, [room])
    else group.push(room)
  }
  return groups.values()
}

/**
 * A heartbeat's calls, each built only when it is about to go out: a room's members are read then,
 * so one who left since the heartbeat began is not written back. Rooms with no member left are
 * skipped; a room may end one call and begin the next.
 */
export function * renewalCalls (groups: Iterable<string[]>, entriesOf: (room: string) => ReadonlyMap<string, string> | undefined): Generator<RoomLeases[]> {
  for (const rooms of groups) {
    let call: RoomLeases[] = []
    let leases = 0
    for (const room of rooms) {
      const entries = entriesOf(room)
      if (entries === undefined) continue
      let pairs: string[] = []
      for (const [connectionId, member] of entries) {
        pairs.push(connectionId, member)
        if (++leases === RENEW_BATCH) {
          call.push({ room, pairs })
          yield call
          call = []
          pairs = []
          leases = 0
        }
      }
      if (pairs.length > 0) call.push({ room, pairs })
    }
    if (call.length > 0) yield call
  }
}

/**
 * Sends `next()`'s calls, RENEW_IN_FLIGHT at a time, the next as one is answered, until it says
 * done. A call that failed does not stop the others; the first failure rejects once all are done.
 */
export async function sendEachCall (next: () => IteratorResult<RoomLeases[]>, send: (call: RoomLeases[]) => Promise<unknown>): Promise<void> {
  const failures: unknown[] = []
  const worker = async (): Promise<void> => {
    for (let call = next(); call.done !== true; call = next()) {
      await send(call.value).catch((err: unknown) => { failures.push(err) })
    }
  }
  await Promise.all(Array.from({ length: RENEW_IN_FLIGHT }, worker))
  if (failures.length > 0) throw failures[0]
}

/**
 * One presence-renew.lua call: the rooms' leases put, and with `expire` their expired leases
 * removed. Resolves with each room's outcome, or its error (a room fails alone). A room that
 * failed in a call of several is tried once more alone: the call went where the client's slot map
 * put the first room's shard, and the room's slot may have moved to another since (the script may
 * only touch the keys of the shard it runs on); alone, its own key routes it, redirections followed.
 */
export async function renewRooms (client: ScriptedRedis, layout: RedisLayout, leaseMs: number, expire: boolean, call: RoomLeases[]): Promise<Array<RoomRenewal | Error>> {
  const outcomes = await renewOnce(client, layout, leaseMs, expire, call)
  if (call.length === 1 || !outcomes.some(outcome => outcome instanceof Error)) return outcomes
  return Promise.all(outcomes.map(async (outcome, i) => {
    if (!(outcome instanceof Error)) return outcome
    return (await renewOnce(client, layout, leaseMs, expire, [call[i]]))[0]
  }))
}

async function renewOnce (client: ScriptedRedis, layout: RedisLayout, leaseMs: number, expire: boolean, call: RoomLeases[]): Promise<Array<RoomRenewal | Error>> {
  const args: Array<string | number> = [leaseMs, expire ? '1' : '0', layout.roomPublish]
  for (const { room, pairs } of call) {
    args.push(layout.presence(room), layout.presenceLeases(room), room, layout.room(room), pairs.length / 2)
    for (const value of pairs) args.push(value)
  }
  const reply = await client.chatPresenceRenew(layout.presence(call[0].room), ...args)
  const outcomes: Array<RoomRenewal | Error> = []
  let at = 0
  for (const { room } of call) {
    const added = Number(reply[at])
    if (added < 0) {
      outcomes.push(new Error(`renewing the presence of room ${room} failed in Redis: ${String(reply[at + 1])}`))
      at += 2
      continue
    }
    const removedCount = Number(reply[at + 1])
    const removed = reply.slice(at + 3, at + 3 + removedCount).map(String)
    outcomes.push({ room, added, removed, untilEarliestMs: Number(reply[at + 2]) })
    at += 3 + removedCount
  }
  return outcomes
}
