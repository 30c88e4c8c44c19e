/**
 * A `since` replay written at the reader's pace. The history is read a page at a time
 * (HistoryStore.sincePage: 500 messages / 512 KiB from Redis); each page's frames are written
 * while the socket holds less than WS_MAX_BUFFERED_BYTES, and once it holds that much the replay
 * waits for the reader to take half of it before writing on or reading the next page. So a replay
 * of any length costs this process at most the bound plus one page per joining socket, and a
 * reader that is slow but reads gets all of it, never a 1013.
 *
 * A reader that takes nothing for REPLAY_STALL_MS while the bound is full is a slow consumer
 * (1013), as it would be if the replay had been written at once: it must not hold a joiner, and
 * the frames the feed delivers meanwhile, for ever.
 *
 * What the feed delivers while the replay runs is held for the joiner (joiners.ts), bounded by
 * JOINER_HELD_BYTES: past it the held frames are dropped and the replay reads on from the history
 * up to where the feed is, which holds every frame dropped (they were delivered, so stored). The
 * replay ends at `start`, the last offset it wrote; held frames after it follow, then live ones:
 * nothing missing or repeated between replay and live, and the order is the offsets'.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { HistoryStore, Position } from './history-port.js'
import { CloseCode } from '../protocol.js'
import type { Connection } from './connection.js'
import type { Joiner, Room } from './room.js'

/** How long a paced replay waits for a reader that takes nothing before closing it with 1013. */
export const REPLAY_STALL_MS = 10_000
/** Frames the feed delivered to one joiner while its replay runs, in bytes; past it they are read from the history again. */
export const JOINER_HELD_BYTES = 1024 * 1024
/** How often a paced replay looks at what the reader took (a socket's 'drain' is not told below its high-water mark). */
const DRAIN_POLL_MS = 20

export interface ReplayOutcome {
  /** The last position written (recovered), or the room's position when the history cannot replay from `since`. */
  start: Position
  recovered: boolean
  /** Frames written. */
  frames: number
}

/**
 * Writes the messages after `since` to the joiner, paced. Null when the joiner went away meanwhile
 * or was closed (slow consumer; or 4010 when the history was lost after part of it was written:
 * a partial replay is never followed by a `joined`). Rejects only if the first page cannot be
 * read; nothing was written then.
 */
export async function pacedReplay (history: HistoryStore, room: Room, joiner: Joiner, since: Position): Promise<ReplayOutcome | null> {
  const conn = joiner.conn
  const first = await history.sincePage(room.name, since, null)
  if (!first.recovered) return { start: first.position, recovered: false, frames: 0 }
  const epoch = first.position.epoch
  let target = first.position.offset
  let written = since.offset
  let page = first.messages
  joiner.replaying = true
  try {
    for (;;) {
      for (const frame of page) {
        if (!await pace(conn, frame.length) || !room.joiners.includes(joiner)) return null
        conn.send(frame)
        written++
      }
      if (written >= target && joiner.overflowed) {
        // Frames the feed delivered were dropped: the history has them, up to where the feed is.
        joiner.overflowed = false
        if (room.epoch !== epoch) return resume(conn, 'the room moved to another epoch during a long replay')
        target = Math.max(target, room.top)
      }
      if (written >= target) break
      if (!await pace(conn, 0)) return null
      let next
      try {
        next = await history.sincePage(room.name, { epoch, offset: written }, target)
      } catch {
        return resume(conn, 'the rest of a replay could not be read')
      }
      if (!room.joiners.includes(joiner)) return null
      if (!next.recovered || next.messages.length === 0) return resume(conn, 'the history was lost during a replay')
      page = next.messages
    }
  } finally {
    joiner.replaying = false
  }
  return { start: { epoch, offset: written }, recovered: true, frames: written - since.offset }
}

/** Part of the replay was written, the rest cannot be: the client resumes from what it got. */
function resume (conn: Connection, why: string): null {
  conn.close(CloseCode.RESUME_NEEDED, why)
  return null
}

/**
 * Resolves true once `bytes` more fit under the bound (at once if they do, or if nothing is
 * buffered: a frame larger than the bound goes alone), false if the socket closed or stalled.
 */
async function pace (conn: Connection, bytes: number): Promise<boolean> {
  const bound = conn.maxBuffered
  if (!conn.open) return false
  if (conn.buffered === 0 || conn.buffered + bytes <= bound) return true
  let lowest = conn.buffered
  let progressAt = Date.now()
  while (conn.open) {
    await sleep(DRAIN_POLL_MS)
    const buffered = conn.buffered
    if (buffered === 0 || (buffered <= bound / 2 && buffered + bytes <= bound)) return conn.open
    if (buffered < lowest) {
      lowest = buffered
      progressAt = Date.now()
    } else if (Date.now() - progressAt >= REPLAY_STALL_MS) {
      conn.slow()
      return false
    }
  }
  return false
}
