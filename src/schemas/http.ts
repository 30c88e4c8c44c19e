/** Schemas of the HTTP endpoints' bodies; each route declares one response per status. */
import { Type } from 'typebox'
import { HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX, PresenceFrameSchema, RoomNameSchema } from './frames.js'

export const ErrorResponseSchema = Type.Object({
  error: Type.String({ description: 'A stable error code' }),
  message: Type.String(),
  reason: Type.Optional(Type.String({ description: 'Why a hook refused (`forbidden` from the connect or join hook, `rejected` from the publish hook)' }))
}, { $id: 'ErrorResponse' })

export const StatsResponseSchema = Type.Object({
  instanceId: Type.String(),
  connections: Type.Integer({ minimum: 0, description: 'Open sockets on this instance' }),
  rooms: Type.Record(Type.String(), Type.Integer({ minimum: 1 }), {
    description: 'Members on this instance per room; rooms with no member are not listed'
  }),
  redis: Type.Union([Type.Literal('connected'), Type.Literal('disabled'), Type.Literal('reconnecting')]),
  uptimeSeconds: Type.Number({ minimum: 0 })
}, { $id: 'StatsResponse' })

/**
 * The refusals of a read of one room (its history, its presence), in the order they are checked;
 * `invalid` and `disabled` say what the 400 and the 404 mean for that read.
 */
export function roomReadRefusals (invalid: string, disabled: string) {
  return {
    400: Type.Ref('ErrorResponse', { description: invalid }),
    401: Type.Ref('ErrorResponse', { description: 'Auth is on and the token (or API key) is missing or invalid' }),
    403: Type.Ref('ErrorResponse', { description: 'The token\'s `rooms` claim does not allow this room' }),
    404: Type.Ref('ErrorResponse', { description: disabled }),
    503: Type.Ref('ErrorResponse', { description: '`unavailable`: Redis is configured but unreachable' })
  }
}

export const HealthResponseSchema = Type.Object({ status: Type.Literal('ok') }, { $id: 'HealthResponse' })

export const ReadyResponseSchema = Type.Object({ status: Type.Literal('ready') }, { $id: 'ReadyResponse' })

export const RoomParamsSchema = Type.Object({ room: RoomNameSchema })

export const WsQuerySchema = Type.Object({
  room: Type.Optional(RoomNameSchema),
  access_token: Type.Optional(Type.String({ description: 'JWT, for clients that cannot set headers (browsers)' }))
})

export const AuthQuerySchema = Type.Object({
  access_token: Type.Optional(Type.String({ description: 'JWT, instead of the Authorization header' }))
})

export const HistoryQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, description: `How many messages, at most; default ${HISTORY_LIMIT_DEFAULT}, a larger value is cut to ${HISTORY_LIMIT_MAX}` })),
  before: Type.Optional(Type.Integer({ minimum: 1, description: 'Only messages with offsets below this one' })),
  access_token: Type.Optional(Type.String({ description: 'JWT, instead of the Authorization header' }))
})

export const HistoryResponseSchema = Type.Object({
  room: RoomNameSchema,
  epoch: Type.String({ description: 'The room\'s epoch; for an empty room, the one its first message will get' }),
  offset: Type.Integer({ minimum: 0, description: 'The room\'s latest offset (0: nothing stored)' }),
  messages: Type.Array(Type.Ref('MessageFrame'), { description: 'Oldest first, each exactly as delivered' })
}, { $id: 'HistoryResponse' })

// The presence frame's fields but `type` and `id`: the same members, counted the same way.
const { room, count, members } = PresenceFrameSchema.properties
export const PresenceResponseSchema = Type.Object({ room, count, members }, { $id: 'PresenceResponse' })

export const ClusterResponseSchema = Type.Object({
  instances: Type.Array(Type.Object({
    instanceId: Type.String(),
    connections: Type.Integer({ minimum: 0, description: 'Open sockets on the instance at its last heartbeat' }),
    rooms: Type.Integer({ minimum: 0, description: 'Rooms with a member on the instance at its last heartbeat' }),
    startedAt: Type.Integer({ description: 'When the instance started, ms since the epoch' }),
    lastSeen: Type.Integer({ description: 'Its last heartbeat, ms since the epoch (Redis time)' })
  }), { description: 'Every live instance: those whose heartbeat is younger than 3/5 of PRESENCE_TTL_SEC; just this one without Redis' })
}, { $id: 'ClusterResponse' })
