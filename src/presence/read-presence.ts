/**
 * A room's presence as the `presence` frame and `GET /rooms/{room}/presence` give it: the stored
 * member JSON is joined into the answer as it is, nothing parsed or serialised again.
 */
import { ErrorCode } from '../protocol.js'
import type { FrameId } from '../schemas/frames.js'
import { presenceBody, type Presence } from './presence.js'

export type PresencePage =
  | {
    ok: true
    /** `head` (`{` plus any fields before `room`, each followed by a comma) with the room, count, members and id. */
    body: (head: string, id?: FrameId) => string
  }
  | { ok: false, code: typeof ErrorCode.PRESENCE_DISABLED | typeof ErrorCode.UNAVAILABLE, message: string }

export const PRESENCE_DISABLED = { ok: false, code: ErrorCode.PRESENCE_DISABLED, message: 'presence is off (PRESENCE_ENABLED=false)' } as const
export const PRESENCE_UNAVAILABLE = { ok: false, code: ErrorCode.UNAVAILABLE, message: 'Redis is unreachable: presence cannot be read now' } as const

/** The members of `room` from `presence` (null: presence is off). */
export async function readPresence (presence: Presence | null, room: string): Promise<PresencePage> {
  if (presence === null) return PRESENCE_DISABLED
  const list = await presence.list(room)
  if (list === null) return PRESENCE_UNAVAILABLE
  return { ok: true, body: (head, id) => presenceBody(head, room, list, id) }
}
