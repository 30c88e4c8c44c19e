/**
 * The read-state frames (src/read-state/) and HTTP bodies. Listed with the other frames in
 * frames.ts, so the validators, the OpenAPI and the AsyncAPI documents all have them.
 */
import { Type, type Static } from 'typebox'
import { FrameIdSchema, RoomNameSchema } from './frame-parts.js'

const id = Type.Optional(FrameIdSchema)

/** Rooms one `unread` frame may name; a user's every cursor is answered when it names none. */
export const UNREAD_ROOMS_MAX = 1000

export const ReadRequestFrameSchema = Type.Object({
  type: Type.Literal('read'),
  room: RoomNameSchema,
  offset: Type.Integer({ minimum: 0, description: 'The offset read up to, in the room\'s current epoch; above the room\'s latest: `bad_frame`' }),
  id
}, {
  $id: 'ReadRequestFrame',
  description: 'Records that the user (auth on) has read a room up to `offset`; cursors only move forward. Answered by `read`; the room\'s members get a `read_receipt`'
})

export const UnreadRequestFrameSchema = Type.Object({
  type: Type.Literal('unread'),
  rooms: Type.Optional(Type.Array(RoomNameSchema, { maxItems: UNREAD_ROOMS_MAX, description: 'These rooms only; default: every room the user has a cursor in' })),
  id
}, { $id: 'UnreadRequestFrame', description: 'The user\'s unread counts (auth on); answered by `unread`' })

export const ReadFrameSchema = Type.Object({
  type: Type.Literal('read'),
  room: RoomNameSchema,
  offset: Type.Integer({ minimum: 0, description: 'The user\'s cursor now: the `read` frame\'s offset, or the stored one if that was further' }),
  epoch: Type.String({ description: 'The epoch the cursor is in: the room\'s current one' }),
  id
}, { $id: 'ReadFrame', description: 'The answer to a `read` request' })

export const UnreadRoomSchema = Type.Object({
  room: RoomNameSchema,
  epoch: Type.String({ description: 'The room\'s current epoch' }),
  offset: Type.Integer({ minimum: 0, description: 'The room\'s latest offset' }),
  readOffset: Type.Integer({ minimum: 0, description: 'The user\'s cursor; 0 when it is of another epoch, or there is none' }),
  unread: Type.Integer({ minimum: 0, description: '`offset` - `readOffset`: exact, offsets have no gaps' })
})

export const UnreadFrameSchema = Type.Object({
  type: Type.Literal('unread'),
  rooms: Type.Array(UnreadRoomSchema),
  id
}, { $id: 'UnreadFrame', description: 'The answer to an `unread` request' })

export const ReadReceiptFrameSchema = Type.Object({
  type: Type.Literal('read_receipt'),
  room: RoomNameSchema,
  user: Type.String({ description: 'Who read' }),
  offset: Type.Integer({ minimum: 0, description: 'Up to where, in `epoch`' }),
  epoch: Type.String()
}, { $id: 'ReadReceiptFrame', description: 'A user moved its read cursor in the room (a `read` frame); to the room\'s members on every instance, the user\'s other sockets included. Transient: at most once' })

export const ReadStateResponseSchema = Type.Object({
  rooms: Type.Array(UnreadRoomSchema)
}, { $id: 'ReadStateResponse' })

export const UserParamsSchema = Type.Object({ user: Type.String({ minLength: 1, maxLength: 256, description: 'The user id (a token\'s `sub`)' }) })

export const UserStatusResponseSchema = Type.Object({
  user: Type.String(),
  online: Type.Boolean({ description: 'The user has a socket open on some instance' }),
  connections: Type.Integer({ minimum: 0, description: 'Its open sockets, on every instance' }),
  lastSeen: Type.Union([Type.Integer(), Type.Null()], { description: 'When its last socket closed (ms since the epoch); for an instance that died, its last heartbeat; null: not known (never seen, or longer ago than READ_STATE_TTL_SEC)' })
}, { $id: 'UserStatusResponse' })

export type ReadRequestFrame = Static<typeof ReadRequestFrameSchema>
export type UnreadRequestFrame = Static<typeof UnreadRequestFrameSchema>
export type UnreadRoom = Static<typeof UnreadRoomSchema>
export type UserStatus = Static<typeof UserStatusResponseSchema>
