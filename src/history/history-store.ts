/**
 * Room history behind one small interface, in Redis (shared by every instance) or in memory (one
 * instance). A store numbers and keeps each room's messages; it also hands each stored message to
 * the hub for delivery, in offset order: the Redis store through pub/sub, from inside the same
 * atomic script, the memory store directly.
 *
 * The interface belongs to the hub, which calls it (hub/history-port.ts); it is re-exported here
 * for the stores, which implement it, and for the features that read the history.
 */
export type {
  AppendResult, HistoryStore, PageResult, Position, SinceResult, StoredDelivery, StoredMessageDraft
} from '../hub/history-port.js'

/** The frame a store keeps and delivers: the draft's head with the history fields, closed. */
export function storedFrame (frameHead: string, offset: number, epoch: string): string {
  return `${frameHead},"offset":${offset},"epoch":"${epoch}"}`
}
