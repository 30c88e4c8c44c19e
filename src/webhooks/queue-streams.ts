/**
 * The names of the webhook queue's streams, and which one an event goes to.
 *
 * One Redis or Sentinel: one stream, `${prefix}:{webhooks}:queue`.
 *
 * A Redis Cluster: SHARD_STREAMS streams, `${prefix}:{webhooks:N}:queue`, so the queue's writes
 * and reads spread over the masters instead of all landing on one. The set is fixed in the code,
 * not derived from the masters found at start-up, because every instance must read every stream
 * any instance writes: a set computed from the slot map of the moment would differ between an
 * instance started before a resharding or a failover and one started after it, and events in a
 * stream only the older instances know would be read by nobody once they are gone. A fixed set
 * stays correct through both: a resharding moves a stream's slot with the stream in it (consumer
 * group and pending entries included), a failover promotes a replica that holds it, and the client
 * follows MOVED either way; only the balance between masters can drift. (Changing SHARD_STREAMS
 * is a change of the layout: instances of both versions must not run side by side.)
 *
 * The N of each tag is picked so that stream i hashes into the i-th sixteenth of the slot space
 * (slots i * 1024 to i * 1024 + 1023), and a room's events go to the stream of its own slot's
 * sixteenth. With the usual split of the slots in contiguous ranges, every master holds streams
 * and a room's events mostly sit on the master that holds the room's history, so queueing a
 * message's event depends on no other shard than storing the message. Events without a room (the
 * user events) spread by their id.
 */
import calculateSlot from 'cluster-key-slot'

export const SHARD_STREAMS = 16
const SLOTS = 16384
const SLOTS_PER_STREAM = SLOTS / SHARD_STREAMS

/** The single stream (one Redis, Sentinel). */
export function webhookStreamKey (prefix: string): string {
  return `${prefix}:{webhooks}:queue`
}

/** The hash tags of the Cluster's streams: for each sixteenth of the slots, the first `webhooks:N` that hashes into it. */
const SHARD_TAGS: readonly string[] = (() => {
  const tags: string[] = []
  for (let i = 0, n = 0; i < SHARD_STREAMS; n++) {
    if (Math.floor(calculateSlot(`webhooks:${n}`) / SLOTS_PER_STREAM) !== i) continue
    tags.push(`webhooks:${n}`)
    i++
    n = -1
  }
  return tags
})()

/** Every stream of the queue, in a fixed order every instance shares. */
export function webhookStreamKeys (prefix: string, cluster: boolean): string[] {
  return cluster ? SHARD_TAGS.map(tag => `${prefix}:{${tag}}:queue`) : [webhookStreamKey(prefix)]
}

/** The index in `webhookStreamKeys(prefix, true)` of the stream for an event of `room` (or, without a room, of id `id`). */
export function shardStreamIndex (room: string | undefined, id: string): number {
  return Math.floor(calculateSlot(room ?? id) / SLOTS_PER_STREAM)
}
