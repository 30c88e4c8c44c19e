/**
 * Every WebSocket frame of the protocol as a TypeBox schema. The same objects validate incoming
 * client frames at run time (src/ws/frame-validators.ts) and appear under `components.schemas` in
 * the OpenAPI document and in the AsyncAPI document, so documentation and behaviour cannot drift.
 */
import { Type, type Static } from 'typebox'
import { ErrorCode } from '../protocol.js'
import { FrameIdSchema, RoomNameSchema } from './frame-parts.js'
import {
  ReadFrameSchema, ReadReceiptFrameSchema, ReadRequestFrameSchema, UnreadFrameSchema, UnreadRequestFrameSchema,
  type ReadRequestFrame, type UnreadRequestFrame
} from './read-state.js'

export { FrameIdSchema, RoomNameSchema }

const id = Type.Optional(FrameIdSchema)
const data = Type.Unknown({ description: 'Any JSON value' })

// Client to server

export const PositionSchema = Type.Object({
  offset: Type.Integer({ minimum: 0, description: 'Offset of the last message received' }),
  epoch: Type.String({ description: 'Epoch of that message' })
}, { description: 'Where a client stands in a room\'s history' })

export const JoinFrameSchema = Type.Object({
  type: Type.Literal('join'),
  room: RoomNameSchema,
  since: Type.Optional(PositionSchema),
  id
}, {
  $id: 'JoinFrame',
  description: 'Join a room (idempotent); answered by `joined`. With `since`, the messages after it are replayed first when the history still holds them all'
})

export const LeaveFrameSchema = Type.Object({
  type: Type.Literal('leave'), room: RoomNameSchema, id
}, { $id: 'LeaveFrame', description: 'Leave a room; answered by `left`' })

export const MessageKeySchema = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'Idempotency key: a resend with the same key to the same room is not stored nor delivered again; its `ack` names the first'
})

export const SendMessageFrameSchema = Type.Object({
  type: Type.Literal('message'),
  room: RoomNameSchema,
  data,
  key: Type.Optional(MessageKeySchema),
  transient: Type.Optional(Type.Boolean({ description: 'true: not stored, no offset, delivered at most once (typing indicators)' })),
  id
}, { $id: 'SendMessageFrame', description: 'Send to every member of a joined room; `ack` when `id` is given, once the message is stored' })

export const SendBroadcastFrameSchema = Type.Object({
  type: Type.Literal('broadcast'), data, id
}, { $id: 'SendBroadcastFrame', description: 'Send to every connected client (scope chat:broadcast when auth is on)' })

export const PingFrameSchema = Type.Object({
  type: Type.Literal('ping'), id
}, { $id: 'PingFrame', description: 'Answered by `pong`' })

export const HISTORY_LIMIT_DEFAULT = 50
export const HISTORY_LIMIT_MAX = 100

export const HistoryRequestFrameSchema = Type.Object({
  type: Type.Literal('history'),
  room: RoomNameSchema,
  limit: Type.Optional(Type.Integer({ minimum: 1, description: `How many messages, at most; default ${HISTORY_LIMIT_DEFAULT}, a larger value is cut to ${HISTORY_LIMIT_MAX}` })),
  before: Type.Optional(Type.Integer({ minimum: 1, description: 'Only messages with offsets below this one; default: the latest' })),
  id
}, { $id: 'HistoryRequestFrame', description: 'The stored messages of a room the token may join (membership not needed); answered by `history`' })

export const RefreshFrameSchema = Type.Object({
  type: Type.Literal('refresh'),
  token: Type.String({ minLength: 1, description: 'A fresh JWT for the same `sub`' }),
  id
}, { $id: 'RefreshFrame', description: 'Replace the connection\'s token before its `exp` passes; answered by `refreshed`' })

export const PresenceRequestFrameSchema = Type.Object({
  type: Type.Literal('presence'), room: RoomNameSchema, id
}, { $id: 'PresenceRequestFrame', description: 'Who is in a room the token may join, on every instance (membership not needed); answered by `presence`' })

export const CLIENT_FRAME_SCHEMAS = [
  JoinFrameSchema, LeaveFrameSchema, SendMessageFrameSchema, SendBroadcastFrameSchema, PingFrameSchema,
  HistoryRequestFrameSchema, RefreshFrameSchema, PresenceRequestFrameSchema,
  ReadRequestFrameSchema, UnreadRequestFrameSchema
] as const

export type JoinFrame = Static<typeof JoinFrameSchema>
export type LeaveFrame = Static<typeof LeaveFrameSchema>
export type SendMessageFrame = Static<typeof SendMessageFrameSchema>
export type SendBroadcastFrame = Static<typeof SendBroadcastFrameSchema>
export type PingFrame = Static<typeof PingFrameSchema>
export type HistoryRequestFrame = Static<typeof HistoryRequestFrameSchema>
export type RefreshFrame = Static<typeof RefreshFrameSchema>
export type PresenceRequestFrame = Static<typeof PresenceRequestFrameSchema>
export type ClientFrame = JoinFrame | LeaveFrame | SendMessageFrame | SendBroadcastFrame | PingFrame | HistoryRequestFrame | RefreshFrame |
  PresenceRequestFrame | ReadRequestFrame | UnreadRequestFrame
export type FrameId = Static<typeof FrameIdSchema>

// Server to client

const SenderSchema = Type.Object({
  connectionId: Type.String(),
  user: Type.Union([Type.String(), Type.Null()], { description: 'The token `sub`, or null when auth is off' })
})

export const WelcomeFrameSchema = Type.Object({
  type: Type.Literal('welcome'),
  connectionId: Type.String(),
  instanceId: Type.String(),
  rooms: Type.Array(RoomNameSchema),
  user: Type.Union([Type.String(), Type.Null()]),
  rateLimitPerSec: Type.Optional(Type.Integer({
    minimum: 0,
    description: 'Frames per second this socket may send (WS_RATE_LIMIT_PER_SEC; the bucket holds twice as many); 0: no limit. Clients pace their writes within it'
  }))
}, { $id: 'WelcomeFrame', description: 'First frame after the upgrade, once the URL rooms receive every instance\'s messages' })

export const MessageFrameSchema = Type.Object({
  type: Type.Literal('message'),
  room: RoomNameSchema,
  data,
  from: SenderSchema,
  messageId: Type.String(),
  ts: Type.Number({ description: 'Server time of sending, milliseconds since the epoch' }),
  offset: Type.Optional(Type.Integer({ minimum: 1, description: 'Place in the room\'s history (history on, not transient): 1, 2, 3, ... within an epoch' })),
  epoch: Type.Optional(Type.String({ maxLength: 32, description: 'Names one continuous history of the room; offsets restart at 1 when it changes' })),
  transient: Type.Optional(Type.Literal(true, { description: 'A transient message: not stored, no offset' }))
}, { $id: 'MessageFrame', description: 'A room message' })

export const BroadcastFrameSchema = Type.Object({
  type: Type.Literal('broadcast'),
  data,
  from: SenderSchema,
  messageId: Type.String(),
  ts: Type.Number()
}, { $id: 'BroadcastFrame', description: 'A global message' })

export const JoinedFrameSchema = Type.Object({
  type: Type.Literal('joined'),
  room: RoomNameSchema,
  offset: Type.Optional(Type.Integer({ minimum: 0, description: 'The room\'s latest offset (0: nothing stored); live messages follow from offset+1. History on only' })),
  epoch: Type.Optional(Type.String({ description: 'The room\'s epoch; for an empty room, the one its first message will get' })),
  recovered: Type.Optional(Type.Boolean({ description: 'Only when the join had `since`: true when every message after it was replayed before this frame' })),
  id
}, { $id: 'JoinedFrame', description: 'The socket now receives the room\'s messages from every instance' })

export const LeftFrameSchema = Type.Object({
  type: Type.Literal('left'), room: RoomNameSchema, id
}, { $id: 'LeftFrame' })

export const AckFrameSchema = Type.Object({
  type: Type.Literal('ack'),
  id: FrameIdSchema,
  messageId: Type.String(),
  offset: Type.Optional(Type.Integer({ minimum: 1, description: 'A stored room message\'s offset' })),
  epoch: Type.Optional(Type.String())
}, { $id: 'AckFrame', description: 'Accepted message or broadcast, sent when the client gave an `id`; for a room message once it is stored' })

export const PongFrameSchema = Type.Object({
  type: Type.Literal('pong'), id
}, { $id: 'PongFrame' })

export const ErrorFrameSchema = Type.Object({
  type: Type.Literal('error'),
  code: Type.Union(Object.values(ErrorCode).map(code => Type.Literal(code))),
  message: Type.String(),
  reason: Type.Optional(Type.String({ description: 'Why a hook refused (`forbidden` from the join hook, `rejected` from the publish hook)' })),
  id
}, { $id: 'ErrorFrame', description: 'A refused frame; the connection stays open' })

export const HistoryFrameSchema = Type.Object({
  type: Type.Literal('history'),
  room: RoomNameSchema,
  epoch: Type.String(),
  offset: Type.Integer({ minimum: 0, description: 'The room\'s latest offset' }),
  // A reference, not the schema inline: its $id may be registered once only.
  messages: Type.Array(Type.Ref('MessageFrame'), { description: 'Oldest first, each exactly as delivered' }),
  id
}, { $id: 'HistoryFrame', description: 'The answer to a `history` request' })

export const RefreshedFrameSchema = Type.Object({
  type: Type.Literal('refreshed'),
  exp: Type.Union([Type.Integer(), Type.Null()], { description: 'The new token\'s `exp` (seconds since the epoch); null when it has none, or auth is off' }),
  id
}, { $id: 'RefreshedFrame', description: 'The `refresh` token was taken: its expiry, rooms and scope apply from now on' })

// Inline in each frame that has it (no $id: the documents list frames only).
const MemberSchema = Type.Object({
  connectionId: Type.String(),
  user: Type.Union([Type.String(), Type.Null()], { description: 'The token `sub`, or null when auth is off' }),
  meta: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'What the connect hook attached to the connection (at most 1 KiB of JSON)' }))
}, { description: 'One connection in a room' })

export const PRESENCE_MEMBERS_MAX = 1000

export const PresenceFrameSchema = Type.Object({
  type: Type.Literal('presence'),
  room: RoomNameSchema,
  count: Type.Integer({ minimum: 0, description: 'Connections in the room, on every instance' }),
  members: Type.Array(MemberSchema, { maxItems: PRESENCE_MEMBERS_MAX, description: `At most ${PRESENCE_MEMBERS_MAX} of them, in no particular order` }),
  id
}, { $id: 'PresenceFrame', description: 'The answer to a `presence` request' })

export const MemberJoinedFrameSchema = Type.Object({
  type: Type.Literal('member_joined'),
  room: RoomNameSchema,
  member: MemberSchema
}, { $id: 'MemberJoinedFrame', description: 'Another connection joined the room, on any instance; among the room\'s messages in the order Redis saw them. Never about the connection itself, never before its own `joined`' })

export const MemberLeftFrameSchema = Type.Object({
  type: Type.Literal('member_left'),
  room: RoomNameSchema,
  member: MemberSchema
}, { $id: 'MemberLeftFrame', description: 'Another connection left the room or closed; for a connection of an instance that died, within PRESENCE_TTL_SEC' })

export const SERVER_FRAME_SCHEMAS = [
  WelcomeFrameSchema, MessageFrameSchema, BroadcastFrameSchema, JoinedFrameSchema, LeftFrameSchema,
  AckFrameSchema, PongFrameSchema, ErrorFrameSchema, HistoryFrameSchema, RefreshedFrameSchema,
  PresenceFrameSchema, MemberJoinedFrameSchema, MemberLeftFrameSchema,
  ReadFrameSchema, UnreadFrameSchema, ReadReceiptFrameSchema
] as const

export type WelcomeFrame = Static<typeof WelcomeFrameSchema>
export type MessageFrame = Static<typeof MessageFrameSchema>
export type BroadcastFrame = Static<typeof BroadcastFrameSchema>
export type ErrorFrame = Static<typeof ErrorFrameSchema>
export type HistoryFrame = Static<typeof HistoryFrameSchema>
export type PresenceFrame = Static<typeof PresenceFrameSchema>
export type MemberJoinedFrame = Static<typeof MemberJoinedFrameSchema>
export type MemberLeftFrame = Static<typeof MemberLeftFrameSchema>
export type ServerFrame = Static<typeof SERVER_FRAME_SCHEMAS[number]>
