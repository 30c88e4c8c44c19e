/**
 * Which shard of a Redis Cluster serves a hash slot, as the client's slot map has it. A script
 * flagged `allow-cross-slot-keys` may touch the keys of every slot of the shard it runs on, so
 * work over many rooms is grouped by shard: one call per shard rather than one per slot (per room,
 * mostly). The map may be stale (a slot moved since it was read): the callers retry what failed
 * one room at a time, routed by that room's own key.
 */
import type { Cluster, Redis } from 'ioredis'

/** The shard's master (`host:port`); '' on one Redis, or for a slot the map does not know yet. */
export function shardOfSlot (client: Redis | Cluster, slot: number): string {
  return client.isCluster ? ((client as Cluster).slots[slot]?.[0] ?? '') : ''
}
