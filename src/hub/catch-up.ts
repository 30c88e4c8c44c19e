/**
 * The history read of a room feed's catch-up (room-feed.ts), repeated while the history it finds
 * has moved: to a new epoch (the history expired, Redis was flushed or came back empty: read from
 * that epoch's start), or back below what the feed delivered in its own epoch, or back to an epoch
 * the feed left (Redis rolled back: the room is fenced into a new epoch first, HistoryStore.fence,
 * then the same).
 */
import type { HistoryStore, Position, SinceResult } from './history-port.js'

/** Reads of one catch-up (each finding the history moved on again) before it gives up and retries later. */
const MAX_READS = 4

export interface CatchUp {
  /** Where the messages start: the feed's position, or offset 0 of the history that replaced it. */
  from: Position | null
  result: SinceResult
}

/**
 * Reads the room's history after `from` (the feed's position; null: none yet, the position only).
 * Not recovered with the feed's epoch and offset in reach: the messages after `from` were trimmed,
 * and no history holds the gap.
 */
export async function readCatchUp (history: HistoryStore, room: string, position: Position | null, left: readonly string[] = []): Promise<CatchUp> {
  let from = position
  for (let reads = 1; ; reads++) {
    const result = await history.since(room, from)
    if (from === null || result.recovered) return { from, result }
    if (reads === MAX_READS) throw new Error('the room history kept moving during a catch-up')
    const at = result.position
    if (left.includes(at.epoch)) {
      // An epoch the feed already left: Redis went back to a copy from before the move (a snapshot,
      // a replica that missed it). Its messages were delivered then; read as a new history they
      // would be delivered again. Fenced as a roll-back below everything it held.
      await history.fence(room, { epoch: at.epoch, offset: at.offset + 1 })
    } else if (at.epoch !== from.epoch) {
      from = { epoch: at.epoch, offset: 0 }
    } else if (from.offset > at.offset) {
      await history.fence(room, from)
    } else {
      return { from, result } // trimmed: no history holds the gap
    }
  }
}
