/** Bodies and answers of the server API (routes/server-api.ts): an application's backend publishing and moderating. */
import { Type } from 'typebox'

const data = Type.Unknown({ description: 'Any JSON value, delivered as the frame\'s `data`' })

export const PublishBodySchema = Type.Object({
  data,
  key: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Idempotency key: a resend with the same key is neither stored nor delivered again' })),
  transient: Type.Optional(Type.Boolean({ description: 'Not stored, no offset; delivered at most once' }))
})

export const BroadcastBodySchema = Type.Object({ data })

export const PublishedResponseSchema = Type.Object({
  messageId: Type.String(),
  offset: Type.Optional(Type.Integer({ minimum: 1, description: 'Absent when transient or history is off' })),
  epoch: Type.Optional(Type.String({ description: 'Absent when transient or history is off' }))
})

export const BroadcastedResponseSchema = Type.Object({ messageId: Type.String() })

/** A WebSocket close reason holds at most 123 bytes. */
export const MAX_REASON_BYTES = 123

export const DisconnectBodySchema = Type.Object({
  reason: Type.Optional(Type.String({ maxLength: MAX_REASON_BYTES, description: 'Close reason the client sees (cut to 123 bytes)' }))
})

export const DisconnectedResponseSchema = Type.Object({}, { description: 'Accepted: the socket(s) are being closed with 4003' })

export const UserParamsSchema = Type.Object({
  user: Type.String({ minLength: 1, maxLength: 256, description: 'The user id: a token\'s `sub`' })
})

export const ConnectionParamsSchema = Type.Object({
  connectionId: Type.String({ minLength: 1, maxLength: 64, description: 'The `connectionId` of a `welcome` frame' })
})
