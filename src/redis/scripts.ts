/**
 * The Lua scripts of the history and of presence, each in its own file beside this one, read once and defined on
 * a client as commands (ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT, e.g. after a
 * Redis restart). `build` copies the lua folder next to the compiled file.
 */
import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'

const lua = (name: string): string => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
// EVAL scripts cannot include one another: the shared function is prepended to each.
const HISTORY_EPOCH = lua('history-epoch')
const MOVE_FORWARD = lua('move-forward')

/**
 * Opens a script that may touch the keys of every slot of the shard it runs on (Redis 7): work
 * over many rooms takes one call per shard (shards.ts). It must be the script's first line.
 */
const CROSS_SLOT = '#!lua flags=allow-cross-slot-keys\n'

const APPEND_ONE = HISTORY_EPOCH + lua('append-one')
const APPEND = APPEND_ONE + lua('append')
/**
 * Each with its number of keys fixed, so that a Cluster client (and its auto-pipelining, were it
 * turned on: it batches by slot) always finds a command's slot from its keys.
 */
const SCRIPTS = {
  chatAppend: { lua: APPEND, numberOfKeys: 3 },
  // The number of keys is the call's first argument (3 per message); they all share one slot.
  chatAppendBatch: { lua: APPEND_ONE + lua('append-batch') },
  chatFence: { lua: HISTORY_EPOCH + lua('fence'), numberOfKeys: 2 },
  chatSince: { lua: HISTORY_EPOCH + lua('since'), numberOfKeys: 2 },
  chatPage: { lua: HISTORY_EPOCH + lua('page'), numberOfKeys: 2 },
  // Rooms of one shard, of many slots: only the first room's key is declared (it routes the call).
  chatPresenceRenew: { lua: CROSS_SLOT + lua('presence-renew'), numberOfKeys: 1 },
  chatPresenceLeave: { lua: lua('presence-leave'), numberOfKeys: 2 },
  chatPresenceBatch: { lua: lua('presence-batch') },
  chatPresenceList: { lua: lua('presence-list'), numberOfKeys: 2 },
  chatInstanceBeat: { lua: lua('instance-beat'), numberOfKeys: 1 },
  chatInstancesSince: { lua: lua('instances-since'), numberOfKeys: 1 },
  // Read state (src/read-state/).
  chatReadAdvance: { lua: MOVE_FORWARD + lua('read-advance'), numberOfKeys: 1 },
  chatReadReceipt: { lua: MOVE_FORWARD + lua('read-receipt'), numberOfKeys: 1 },
  chatRoomTops: { lua: CROSS_SLOT + HISTORY_EPOCH + lua('room-tops'), numberOfKeys: 1 },
  chatUserLease: { lua: lua('user-lease'), numberOfKeys: 1 },
  chatUserStatus: { lua: lua('user-status'), numberOfKeys: 2 },
  // The same script with the webhooks' online mark as a third key (src/webhooks/user-events.ts).
  chatUserOffline: { lua: lua('user-status'), numberOfKeys: 3 }
}

type Reply = Promise<Array<Buffer | number>>

/** The commands defined on a client: the keys first, then the script's arguments. */
export interface HistoryScripts {
  chatAppendBuffer (meta: string, log: string, key: string, ...args: Array<string | number>): Reply
  /** Group commit (append-batch.lua): `numKeys`, the keys, then the arguments. */
  chatAppendBatchBuffer (numKeys: number, ...keysAndArgs: Array<string | number>): Reply
  chatFence (meta: string, log: string, ...args: Array<string | number>): Promise<number>
  chatSinceBuffer (meta: string, log: string, ...args: Array<string | number>): Reply
  chatPageBuffer (meta: string, log: string, ...args: Array<string | number>): Reply
  /** Renewal of many rooms of one shard (presence-renew.lua): the first room's presence hash, then the arguments. */
  chatPresenceRenew (routingPresence: string, ...args: Array<string | number>): Promise<Array<number | string>>
  chatPresenceLeave (presence: string, leases: string, ...args: Array<string | number>): Promise<number>
  /** Presence's group commit (presence-batch.lua): `numKeys`, the keys, then the arguments. */
  chatPresenceBatch (numKeys: number, ...keysAndArgs: Array<string | number>): Promise<Array<number | string>>
  chatPresenceList (presence: string, leases: string, ...args: Array<string | number>): Promise<[number, ...string[]]>
  chatInstanceBeat (instances: string, ...args: Array<string | number>): Promise<[string | null, number]>
  chatInstancesSince (instances: string, ...args: Array<string | number>): Promise<string[]>
  chatReadAdvance (cursors: string, ...args: Array<string | number>): Promise<Array<[moved: number, offset: number, epoch: string]>>
  chatReadReceipt (receipts: string, ...args: Array<string | number | Buffer>): Promise<number>
  chatRoomTops (routingMeta: string, ...args: Array<string | number>): Promise<Array<string | number>>
  chatUserLease (leases: string, ...args: Array<string | number>): Promise<number>
  chatUserStatus (leases: string, seen: string, ...args: Array<string | number>): Promise<[live: number, lastSeen: number, unmarked: number]>
  chatUserOffline (leases: string, seen: string, mark: string, ...args: Array<string | number>): Promise<[live: number, lastSeen: number, unmarked: number]>
}

/** On a Cluster, each call goes to the master of its keys' slot (one slot per room: layout.ts). */
export type ScriptedRedis = (Redis | Cluster) & HistoryScripts

export function defineScripts (client: Redis | Cluster): ScriptedRedis {
  for (const [name, definition] of Object.entries(SCRIPTS)) {
    if (!(name in client)) client.defineCommand(name, definition)
  }
  return client as ScriptedRedis
}
