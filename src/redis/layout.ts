/**
 * The Redis layout of one chat-api cluster, decided here and nowhere else: every channel and key
 * name comes from REDIS_CHANNEL_PREFIX, so two clusters sharing a Redis never meet.
 *
 *   `${prefix}:all`                   global broadcasts; every instance subscribes (sharded on a cluster)
 *   `${prefix}:control`               server API disconnects; every instance subscribes (sharded on a cluster)
 *   `${prefix}:room:{R}`              room R's channel; subscribed while the instance has a member
 *   `${prefix}:{R}:meta`              hash: epoch and top offset of R's history; `rid`: the replication ID
 *                                     of the Redis history that numbered the top (stamped by senders
 *                                     with HISTORY_MIN_REPLICAS=0: append-one.lua); `prev`: the epoch
 *                                     this one replaced, whose idempotency keys still count
 *   `${prefix}:{R}:log`               stream: R's last HISTORY_SIZE messages, entry id `offset-0`
 *   `${prefix}:{R}:key:K`             string: what an idempotency key K of R was first stored as
 *   `${prefix}:{R}:id:M`              string: the same for the key the service made for message M (no key given)
 *   `${prefix}:{R}:presence`          hash: connectionId -> member JSON, every member of R on every instance
 *   `${prefix}:{R}:leases`            zset: connectionId -> when its presence lease expires (Redis time, ms)
 *   `${prefix}:{R}:receipts`          hash: user -> "epoch offset" of the last read receipt published in R (read-receipt.lua)
 *   `${prefix}:instances`             zset: instanceId -> last heartbeat (Redis time, ms); expires unless beaten
 *   `${prefix}:instance:{I}:info`     hash: instance I's counts and start time; expires unless refreshed
 *   `${prefix}:user:{u:U}:read`       hash: room -> "epoch offset", user U's read cursors (read state)
 *   `${prefix}:user:{u:U}:conns`      zset: connectionId -> when U's status lease of it expires (Redis time, ms)
 *   `${prefix}:user:{u:U}:seen`       string: when U's last socket closed (ms)
 *   `${prefix}:user:{u:U}:webhook-online` string: set while user.online was raised and user.offline not yet
 *   `${prefix}:{webhooks}:queue`      stream: webhook events waiting to be sent, consumer group `senders` (one Redis, Sentinel)
 *   `${prefix}:{webhooks:N}:queue`    the same on a Cluster: 16 streams, tags one per sixteenth of the slots
 *                                     (src/webhooks/queue-streams.ts names them and picks an event's)
 *
 * The room name sits inside `{...}`: on a Redis Cluster everything of one room hashes to one
 * slot (so the history script may touch all of it atomically), and rooms spread over the shards.
 * Room names never hold braces, so the tag is always exactly the room. An instance's own keys share
 * the tag of its id, so they too sit together, and a user's keys the tag `u:` + the user (never
 * empty; a user holding `}` cuts the tag short, the same way for each of its keys). No script
 * touches a room's keys and an instance's or a user's at once (they may live on different shards),
 * except room-tops.lua, which reads only rooms of the shard it runs on.
 *
 * `roomPublish` is the command that publishes on a room channel, inside the Lua scripts too:
 * PUBLISH on one Redis, SPUBLISH (sharded pub/sub, only the room's shard carries it) on a cluster.
 * On a cluster the global channels are sharded as well. A classic PUBLISH lands on whichever
 * master the client picks and reaches the subscribers' master only over the cluster bus, which
 * forwards it best-effort: to no node whose bus link is down or not made yet (a fresh cluster, a
 * link Redis resets after half its node timeout without an answer), and nothing tells the sender
 * or the subscriber. A sharded channel is published on the very master its subscribers hold it
 * on, and a slot move or failover is seen (SUNSUBSCRIBE, MOVED) and followed like a room's.
 */
import calculateSlot from 'cluster-key-slot'

export type RoomPublishCommand = 'PUBLISH' | 'SPUBLISH'

export interface RedisLayout {
  readonly roomPublish: RoomPublishCommand
  readonly all: string
  readonly control: string
  room (room: string): string
  /** The room a room channel belongs to; null for any other channel. */
  roomOf (channel: string): string | null
  meta (room: string): string
  log (room: string): string
  messageKey (room: string, key: string): string
  /** The idempotency key of a message sent without one: made from its messageId. */
  messageIdKey (room: string, messageId: string): string
  /** Whether a channel is a sharded one (SSUBSCRIBE, SPUBLISH): every channel on a cluster. */
  sharded (channel: string): boolean
  /** The Redis Cluster hash slot of a key or channel: where a cluster keeps it. */
  slot (name: string): number
  presence (room: string): string
  presenceLeases (room: string): string
  /** The last read receipt published per user in R: they leave in cursor order (src/read-state/). */
  readReceipts (room: string): string
  readonly instances: string
  instanceInfo (instanceId: string): string
  /** User U's read cursors, on U's own slot (src/read-state/). */
  readCursors (user: string): string
  /** User U's status leases, one per socket; beside `userSeen` on U's slot. */
  userConnections (user: string): string
  userSeen (user: string): string
  /** Set by the instance that raised U's user.online webhook, deleted by the one that raises user.offline. */
  userOnlineMark (user: string): string
}

export function redisLayout (prefix: string, roomPublish: RoomPublishCommand = 'PUBLISH'): RedisLayout {
  const roomPrefix = `${prefix}:room:{`
  const all = `${prefix}:all`
  const control = `${prefix}:control`
  return {
    roomPublish,
    all,
    control,
    room: (room) => `${roomPrefix}${room}}`,
    roomOf: (channel) => channel.length > roomPrefix.length + 1 && channel.startsWith(roomPrefix) && channel.endsWith('}')
      ? channel.slice(roomPrefix.length, -1)
      : null,
    meta: (room) => `${prefix}:{${room}}:meta`,
    log: (room) => `${prefix}:{${room}}:log`,
    messageKey: (room, key) => `${prefix}:{${room}}:key:${key}`,
    messageIdKey: (room, messageId) => `${prefix}:{${room}}:id:${messageId}`,
    sharded: (channel) => roomPublish === 'SPUBLISH' && (channel.startsWith(roomPrefix) || channel === all || channel === control),
    slot: calculateSlot,
    presence: (room) => `${prefix}:{${room}}:presence`,
    presenceLeases: (room) => `${prefix}:{${room}}:leases`,
    readReceipts: (room) => `${prefix}:{${room}}:receipts`,
    instances: `${prefix}:instances`,
    instanceInfo: (instanceId) => `${prefix}:instance:{${instanceId}}:info`,
    readCursors: (user) => `${prefix}:user:{u:${user}}:read`,
    userConnections: (user) => `${prefix}:user:{u:${user}}:conns`,
    userSeen: (user) => `${prefix}:user:{u:${user}}:seen`,
    userOnlineMark: (user) => `${prefix}:user:{u:${user}}:webhook-online`
  }
}
