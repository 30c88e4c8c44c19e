/**
 * The server API: an application's backend publishes into rooms and disconnects users without
 * holding a socket. Messages take the sockets' own path (`hub.sendToRoom` / `hub.sendToAll`: history,
 * offsets, keys, fan-out); disconnects reach every instance through the control channel.
 */
import { TypeBoxValidatorCompiler, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { applyControl, decodeControl, encodeControl, type ControlMessage } from '../hub/control.js'
import { ANONYMOUS, mayApiBroadcast, mayPublishTo } from '../hub/principal.js'
import { BROADCAST_SCOPE, ErrorCode } from '../protocol.js'
import { serialiseData, TOO_DEEP } from '../serialise-data.js'
import { publishBody } from '../hooks/publish-gate.js'
import { RoomParamsSchema } from '../schemas/http.js'
import {
  BroadcastBodySchema, BroadcastedResponseSchema, ConnectionParamsSchema, DisconnectBodySchema,
  DisconnectedResponseSchema, MAX_REASON_BYTES, PublishBodySchema, PublishedResponseSchema, UserParamsSchema
} from '../schemas/server-api.js'

/** A disconnect's body is at most a reason of 123 bytes: a few escapes fit, a large body does not. */
const DISCONNECT_BODY_LIMIT_BYTES = 1024
const DEFAULT_REASON = 'disconnected by the server'
const UNREACHABLE = 'Redis is unreachable: the other instances could not be reached'

const refusals = {
  401: Type.Ref('ErrorResponse', { description: 'No or a wrong API key or token (`unauthorized`)' }),
  403: Type.Ref('ErrorResponse', { description: 'A token without the chat:publish scope (`forbidden`), or an `Origin` not in WS_ALLOWED_ORIGINS (`forbidden_origin`)' }),
  415: Type.Ref('ErrorResponse', { description: 'No `Content-Type: application/json` (`unsupported_media_type`)' })
}
const adminRefusals = {
  ...refusals,
  403: Type.Ref('ErrorResponse', { description: 'A token without the chat:admin scope (`forbidden`), or an `Origin` not in WS_ALLOWED_ORIGINS (`forbidden_origin`)' }),
  413: Type.Ref('ErrorResponse', { description: `Body larger than ${DISCONNECT_BODY_LIMIT_BYTES} bytes (\`too_large\`)` })
}

const publishRefusals = {
  ...refusals,
  403: Type.Ref('ErrorResponse', {
    description: 'A token without the chat:publish scope, or whose `rooms` claim does not hold the room; a broadcast by a token with a `rooms` claim but without chat:broadcast (`forbidden`)'
  })
}

/** Server API publishes waiting on the publish hook at once, per instance: each holds a body of up to WS_MAX_MESSAGE_BYTES. */
const MAX_PENDING_API_PUBLISHES = 256

/** A close reason within the 123 bytes WebSocket allows, cut on a character boundary. */
function closeReason (reason: string | undefined): string {
  let text = reason === undefined || reason === '' ? DEFAULT_REASON : reason
  while (Buffer.byteLength(text) > MAX_REASON_BYTES) text = text.slice(0, -1)
  return text
}

const serverApiRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { hub, admission, apiAuth, config, chatHooks: hooks } = fastify
  let pendingPublishes = 0
  const security = apiAuth.schemes.length === 0 ? undefined : apiAuth.schemes.map(name => ({ [name]: [] }))
  // onRequest: the caller is known before its body is read (a body may be up to WS_MAX_MESSAGE_BYTES).
  // Bodies are checked as sent: Fastify's Ajv would coerce `{"key":7}` into "7". TypeBox's
  // compiler converts the params (strings here anyway) and never the body.
  const common = { onRequest: apiAuth.publisher, validatorCompiler: TypeBoxValidatorCompiler }
  const adminOnly = { onRequest: apiAuth.admin, bodyLimit: DISCONNECT_BODY_LIMIT_BYTES, validatorCompiler: TypeBoxValidatorCompiler }
  // Every POST is `application/json` (post-guard.ts), yet a disconnect has nothing to say but an
  // optional reason: an empty body is taken as none rather than refused as broken JSON.
  const parseJson = fastify.getDefaultJsonParser('error', 'error')
  fastify.removeContentTypeParser('application/json')
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined)
    parseJson(request, body as string, done)
  })
  // A disconnect's body is optional; without one there is nothing for the schema to look at.
  const optionalBody = async (request: { body: unknown }) => { request.body ??= {} }

  hub.onControl = (payload) => {
    const message = decodeControl(payload)
    if (message === null) return fastify.log.debug({ bytes: payload.length }, 'dropped a malformed control payload')
    applyControl(message, admission.index)
  }

  const badRequest = { error: 'bad_request', message: TOO_DEEP }

  fastify.post('/rooms/:room/messages', {
    schema: {
      tags: ['server-api'],
      summary: 'Publish a message into a room, delivered on every instance with `from.connectionId` null',
      security,
      params: RoomParamsSchema,
      body: PublishBodySchema,
      response: {
        201: PublishedResponseSchema,
        400: Type.Ref('ErrorResponse', { description: 'Invalid room name (`invalid_room`) or body (`bad_request`)' }),
        ...publishRefusals,
        403: Type.Ref('ErrorResponse', {
          description: 'A token without the chat:publish scope, or whose `rooms` claim does not hold the room (`forbidden`); the publish hook refused the message (`rejected`, with `reason`): nothing stored, no offset used'
        }),
        413: Type.Ref('ErrorResponse', { description: 'Body larger than WS_MAX_MESSAGE_BYTES (`too_large`)' }),
        429: Type.Ref('ErrorResponse', { description: 'Too many publishes of this instance wait on the publish hook (`rate_limited`)' }),
        503: Type.Ref('ErrorResponse', { description: 'Redis is down and history is on, or the publish hook failed with HOOK_FAILURE=closed: nothing was published (`unavailable`); or the message was stored but its `message.stored` webhook could not be queued: resend it with the same key (`unavailable`)' })
      }
    },
    bodyLimit: config.WS_MAX_MESSAGE_BYTES,
    ...common
  }, async (request, reply) => {
    const { room } = request.params
    if (!mayPublishTo(request.principal ?? ANONYMOUS, room)) {
      return reply.code(403).send({ error: ErrorCode.FORBIDDEN, message: `the token's rooms claim does not allow publishing to "${room}"` })
    }
    const { data, key, transient } = request.body
    let dataJson = serialiseData(data)
    if (dataJson === null) return reply.code(400).send(badRequest)
    const user = request.principal?.user ?? null
    if (hooks.publishOn) {
      if (pendingPublishes >= MAX_PENDING_API_PUBLISHES) {
        return reply.code(429).header('retry-after', '1').send({ error: ErrorCode.RATE_LIMITED, message: `${MAX_PENDING_API_PUBLISHES} publishes wait on the publish hook already` })
      }
      pendingPublishes++
      const input = { room, user, connectionId: null, data, transient: transient === true }
      const decision = await hooks.decide('publish', input, publishBody(input, dataJson)).finally(() => { pendingPublishes-- })
      if (!decision.allow) {
        if (decision.code === 'unavailable') return reply.code(503).send({ error: ErrorCode.UNAVAILABLE, message: decision.reason })
        return reply.code(403).send({ error: ErrorCode.REJECTED, message: 'the publish hook refused the message: nothing was stored or delivered', reason: decision.reason })
      }
      dataJson = decision.data ?? dataJson
    }
    const fromJson = JSON.stringify({ connectionId: null, user })
    const outcome = await hub.sendToRoom(room, dataJson, fromJson, { key, transient })
    if (!outcome.ok) return reply.code(503).send({ error: ErrorCode.UNAVAILABLE, message: outcome.message })
    hub.observer?.published('api')
    return reply.code(201).send({ messageId: outcome.messageId, offset: outcome.offset, epoch: outcome.epoch })
  })

  fastify.post('/broadcast', {
    schema: {
      tags: ['server-api'],
      summary: 'Send a broadcast to every connection of every instance',
      security,
      body: BroadcastBodySchema,
      response: {
        201: BroadcastedResponseSchema,
        400: Type.Ref('ErrorResponse', { description: 'Body of the wrong shape (`bad_request`)' }),
        ...publishRefusals,
        413: Type.Ref('ErrorResponse', { description: 'Body larger than WS_MAX_MESSAGE_BYTES (`too_large`)' })
      }
    },
    bodyLimit: config.WS_MAX_MESSAGE_BYTES,
    ...common
  }, async (request, reply) => {
    if (!mayApiBroadcast(request.principal ?? ANONYMOUS)) {
      return reply.code(403).send({ error: ErrorCode.FORBIDDEN, message: `a token with a rooms claim needs the ${BROADCAST_SCOPE} scope to broadcast` })
    }
    const dataJson = serialiseData(request.body.data)
    if (dataJson === null) return reply.code(400).send(badRequest)
    const fromJson = JSON.stringify({ connectionId: null, user: request.principal?.user ?? null })
    const messageId = hub.sendToAll(dataJson, fromJson)
    hub.observer?.published('api')
    return reply.code(201).send({ messageId })
  })

  const disconnectResponses = {
    202: DisconnectedResponseSchema,
    400: Type.Ref('ErrorResponse', { description: 'Body of the wrong shape (`bad_request`)' }),
    ...adminRefusals,
    503: Type.Ref('ErrorResponse', { description: 'Redis is down: other instances were not reached (`unavailable`)' })
  }

  fastify.post('/users/:user/disconnect', {
    schema: {
      tags: ['server-api'],
      summary: 'Close every socket of a user (token `sub`) on every instance with 4003',
      security,
      params: UserParamsSchema,
      body: DisconnectBodySchema,
      response: disconnectResponses
    },
    preValidation: optionalBody,
    ...adminOnly
  }, async (request, reply) => {
    const message: ControlMessage = { op: 'disconnect', user: request.params.user, reason: closeReason(request.body?.reason) }
    // This instance's sockets close at once, reached or not.
    if (!hub.publishControl(encodeControl(message))) {
      return reply.code(503).send({ error: ErrorCode.UNAVAILABLE, message: `${UNREACHABLE}; this instance's sockets of the user were closed` })
    }
    return reply.code(202).send({})
  })

  fastify.post('/connections/:connectionId/disconnect', {
    schema: {
      tags: ['server-api'],
      summary: 'Close one socket, on whichever instance holds it, with 4003',
      security,
      params: ConnectionParamsSchema,
      body: DisconnectBodySchema,
      response: disconnectResponses
    },
    preValidation: optionalBody,
    ...adminOnly
  }, async (request, reply) => {
    const message: ControlMessage = { op: 'disconnect', connectionId: request.params.connectionId, reason: closeReason(request.body?.reason) }
    // Ours: no other instance needs telling (connection ids are unique).
    if (applyControl(message, admission.index) > 0) return reply.code(202).send({})
    if (!hub.publishControl(encodeControl(message))) return reply.code(503).send({ error: ErrorCode.UNAVAILABLE, message: UNREACHABLE })
    return reply.code(202).send({})
  })
}

export default serverApiRoutes
