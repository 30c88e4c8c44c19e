/**
 * What the presence scripts publish on a room's channel for `member_joined` / `member_left`:
 * `~<connectionId>\n` then the frame. The connection the event is about is read from the header,
 * so the fan-out skips it by comparing ids, without parsing the frame or building one per member.
 * Every instance, this one included, delivers these from Redis: they reach the local members in
 * the same order, among the room's stored messages, as everyone else's.
 */
const MARK = 0x7e // '~': never the first byte of an envelope (a UUID) nor of a stored message ('=')
const NEWLINE = 0x0a
const OPEN_BRACE = 0x7b
const MAX_HEADER_BYTES = 80

export interface MemberPayload {
  /** The connection the event is about: it does not get it. */
  except: string
  frame: Buffer
}

export function isMemberPayload (payload: Buffer): boolean {
  return payload.length > 0 && payload[0] === MARK
}

/** The parts of a member event's payload; null when it is malformed. */
export function openMemberPayload (payload: Buffer): MemberPayload | null {
  const newline = payload.indexOf(NEWLINE, 1)
  if (newline < 2 || newline > MAX_HEADER_BYTES || payload[newline + 1] !== OPEN_BRACE) return null
  return { except: payload.toString('latin1', 1, newline), frame: payload.subarray(newline + 1) }
}
