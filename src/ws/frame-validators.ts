/**
 * Client frames are checked against the very schemas that the docs publish, compiled once at
 * load. A refusal is classified the way docs/protocol.md asks: a string `room` that breaks the naming
 * rule is `invalid_room`, anything else is `bad_frame`.
 */
import { Compile } from 'typebox/compile'
import {
  HistoryRequestFrameSchema, JoinFrameSchema, LeaveFrameSchema, PingFrameSchema, PresenceRequestFrameSchema, RefreshFrameSchema, SendBroadcastFrameSchema,
  SendMessageFrameSchema, type ClientFrame
} from '../schemas/frames.js'
import { ReadRequestFrameSchema, UnreadRequestFrameSchema } from '../schemas/read-state.js'
import { ErrorCode, INVALID_ROOM_MESSAGE, isValidRoom } from '../protocol.js'

/** One compiled validator per client frame type; exported for the docs tests, which compare it with the published schema. */
export const validators = {
  join: Compile(JoinFrameSchema),
  leave: Compile(LeaveFrameSchema),
  message: Compile(SendMessageFrameSchema),
  broadcast: Compile(SendBroadcastFrameSchema),
  ping: Compile(PingFrameSchema),
  history: Compile(HistoryRequestFrameSchema),
  refresh: Compile(RefreshFrameSchema),
  presence: Compile(PresenceRequestFrameSchema),
  read: Compile(ReadRequestFrameSchema),
  unread: Compile(UnreadRequestFrameSchema)
}

export type FrameType = keyof typeof validators

export function isFrameType (type: string): type is FrameType {
  return Object.hasOwn(validators, type)
}

export type FrameCheck =
  | { ok: true, frame: ClientFrame }
  | { ok: false, code: typeof ErrorCode.BAD_FRAME | typeof ErrorCode.INVALID_ROOM, message: string }

export function checkFrame (type: FrameType, frame: Record<string, unknown>): FrameCheck {
  const validator = validators[type]
  if (validator.Check(frame)) return { ok: true, frame: frame as ClientFrame }
  const room = frame.room
  if (typeof room === 'string' && type !== 'broadcast' && type !== 'ping' && type !== 'refresh' && type !== 'unread' && !isValidRoom(room)) {
    return { ok: false, code: ErrorCode.INVALID_ROOM, message: INVALID_ROOM_MESSAGE }
  }
  const rooms = frame.rooms
  if (type === 'unread' && Array.isArray(rooms) && rooms.some(r => typeof r === 'string' && !isValidRoom(r))) {
    return { ok: false, code: ErrorCode.INVALID_ROOM, message: INVALID_ROOM_MESSAGE }
  }
  const [first] = validator.Errors(frame)
  // The id is a union: the validator's first complaint ("must be string") would mislead.
  if (first?.instancePath === '/id') return { ok: false, code: ErrorCode.BAD_FRAME, message: 'id must be a string or a finite number' }
  const where = first?.instancePath ? first.instancePath.slice(1) : `"${type}" frame`
  return { ok: false, code: ErrorCode.BAD_FRAME, message: `${where} ${first?.message ?? 'is malformed'}` }
}
