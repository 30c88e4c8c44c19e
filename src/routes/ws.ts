/**
 * The WebSocket endpoints `/ws` and `/ws/{room}`. Room names and tokens are checked before the
 * upgrade (schema, then hooks), so a refused client gets HTTP JSON and never a socket. The plain
 * GET handler answers 426; `wsHandler` takes the upgraded socket.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { WebSocket } from 'ws'
import { Connection, type SocketOutput } from '../hub/connection.js'
import { takesOurDeflate } from '../hub/deflate-frame.js'
import { ANONYMOUS, mayJoin } from '../hub/principal.js'
import { ErrorCode, SHUTTING_DOWN } from '../protocol.js'
import { RoomParamsSchema, WsQuerySchema } from '../schemas/http.js'
import { releaseUpgrade } from '../ws/release-upgrade.js'
import { wsCloseCode } from '../ws/ws-close-code.js'
import { Session } from '../ws/session.js'
import type { SessionLimits } from '../ws/limits.js'
import { TokenExpiry } from '../ws/token-refresh.js'
import type { Decision } from '../hooks/types.js'

/** What the hooks decided at the upgrade, for the socket that follows: its id (the join hook saw it) and meta. */
interface Admitted {
  connectionId: string
  meta: string | null
}

/** The HTTP refusal of a hook's decision: 403 with its reason, or 503 when it failed closed. */
function hookRefusal (reply: FastifyReply, decision: Exclude<Decision, { allow: true }>, message: string) {
  if (decision.code === 'unavailable') return reply.code(503).send({ error: ErrorCode.UNAVAILABLE, message: decision.reason })
  return reply.code(403).send({ error: ErrorCode.FORBIDDEN, message, reason: decision.reason })
}

const UPGRADE_RESPONSES = {
  101: Type.Null({ description: 'Switching Protocols: the socket is open; its first frame is `welcome`' }),
  400: Type.Ref('ErrorResponse', { description: 'Invalid room name (`invalid_room`) or too many rooms' }),
  401: Type.Ref('ErrorResponse', { description: 'Missing, malformed, badly signed or expired token' }),
  403: Type.Ref('ErrorResponse', { description: 'The token\'s `rooms` claim does not allow this room, or the connect or join hook refused (`forbidden`, with `reason`), or the `Origin` is not in WS_ALLOWED_ORIGINS (`forbidden_origin`)' }),
  426: Type.Ref('ErrorResponse', { description: 'A plain GET: this endpoint only takes WebSocket upgrades' }),
  429: Type.Ref('ErrorResponse', { description: 'The user has WS_MAX_CONNECTIONS_PER_USER sockets on this instance already (`too_many_connections`)' }),
  503: Type.Ref('ErrorResponse', { description: 'The instance is shutting down (`shutting_down`), or at WS_MAX_CONNECTIONS (`too_many_connections`), or a hook failed with HOOK_FAILURE=closed (`unavailable`)' })
}

/** The rooms named by the URL, path first, without repeats (both already checked by the schema). */
function urlRooms (request: FastifyRequest): string[] {
  const { room: pathRoom } = request.params as { room?: string }
  const { room: queryRoom } = request.query as { room?: string }
  if (pathRoom === undefined) return queryRoom === undefined ? [] : [queryRoom]
  return queryRoom === undefined || queryRoom === pathRoom ? [pathRoom] : [pathRoom, queryRoom]
}

/** The URL's rooms are answered by `welcome`, not by one `joined` each. */
const noReply = () => {}

const wsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { hub, config, auth, admission, chatHooks: hooks, readState } = fastify
  // Keyed by the request: gone with it, whether or not the upgrade completes.
  const admitted = new WeakMap<FastifyRequest, Admitted>()
  const expiry = new TokenExpiry(auth, hub)
  const limits: SessionLimits = {
    maxMessageBytes: config.WS_MAX_MESSAGE_BYTES,
    maxRooms: config.WS_MAX_ROOMS_PER_CONNECTION,
    ratePerSec: config.WS_RATE_LIMIT_PER_SEC,
    joinRatePerSec: config.WS_JOIN_RATE_PER_SEC
  }

  /** Refusals that need the principal or the hub state, after the schema checked the names. */
  async function admit (request: FastifyRequest, reply: FastifyReply) {
    if (hub.closing) {
      return reply.code(503).send(SHUTTING_DOWN)
    }
    const principal = request.principal ?? ANONYMOUS
    const refusal = admission.check(request.headers.origin, principal.user)
    if (refusal !== null) return reply.code(refusal.status).send(refusal.body)
    const rooms = urlRooms(request)
    const refused = rooms.find(room => !mayJoin(principal, room))
    if (refused !== undefined) {
      return reply.code(403).send({ error: ErrorCode.FORBIDDEN, message: `not allowed to join "${refused}"` })
    }
    if (rooms.length > limits.maxRooms) {
      return reply.code(400).send({ error: ErrorCode.TOO_MANY_ROOMS, message: `at most ${limits.maxRooms} rooms per connection` })
    }
    if (hooks.connectOn || (hooks.joinOn && rooms.length > 0)) return askHooks(request, reply, principal.user, rooms)
  }

  /** The connect hook, then the join hook for each room of the URL: all before the upgrade. */
  async function askHooks (request: FastifyRequest, reply: FastifyReply, user: string | null, rooms: string[]) {
    const ticket: Admitted = { connectionId: randomUUID(), meta: null }
    if (hooks.connectOn) {
      const headers = { origin: request.headers.origin ?? null, 'user-agent': request.headers['user-agent'] ?? null }
      const decision = await hooks.decide('connect', { user, claims: request.tokenClaims, remoteAddress: request.ip, headers })
      if (!decision.allow) return hookRefusal(reply, decision, 'the connect hook refused the connection')
      ticket.meta = decision.meta ?? null
    }
    if (hooks.joinOn) {
      const decisions = await Promise.all(rooms.map(room => hooks.decide('join', { room, user, connectionId: ticket.connectionId })))
      const index = decisions.findIndex(decision => !decision.allow)
      const refusal = decisions[index]
      if (refusal !== undefined && !refusal.allow) return hookRefusal(reply, refusal, `not allowed to join "${rooms[index]}"`)
    }
    admitted.set(request, ticket)
  }

  function upgradeRequired (_request: FastifyRequest, reply: FastifyReply) {
    return reply.code(426).header('upgrade', 'websocket')
      .send({ error: 'upgrade_required', message: 'this endpoint takes WebSocket upgrades only' })
  }

  /** Runs when the server closes a socket (with its code) and again when the socket closes. */
  const leaveHub = (conn: Connection, code?: number) => {
    if (code !== undefined) hub.observer?.closed(code)
    expiry.unwatch(conn)
    admission.index.remove(conn)
    readState.status.disconnected(conn)
    hub.remove(conn)
  }

  // How frames leave a socket: one of two, shared by every socket.
  const plain: SocketOutput = { deflateMinBytes: Infinity, sent: hub.sent }
  const deflated: SocketOutput = { deflateMinBytes: config.WS_COMPRESSION_MIN_BYTES, sent: hub.sent }
  // Shared by every socket, so that none keeps a closure, or its request's child logger, for them.
  const onUnexpected = (err: unknown) => fastify.log.error({ err }, 'frame handling failed')
  /** Replaces @fastify/websocket's 'error' listener (release-upgrade.ts): ws's own closes count as ours. */
  function onSocketError (err: Error) {
    fastify.log.debug({ err }, 'websocket error')
    const code = wsCloseCode(err)
    if (code !== null) hub.observer?.closed(code)
  }

  /**
   * The socket's listeners, made in a scope of their own: closures made in `open` would keep all
   * that `open` shares with any of them (its `welcome` frame, say) for as long as the socket lives.
   */
  function listenTo (socket: WebSocket, session: Session) {
    socket.on('message', (data, isBinary) => session.receive(data, isBinary))
    socket.on('pong', () => { session.conn.alive = true })
    socket.on('close', () => leaveHub(session.conn))
  }

  function open (socket: WebSocket, request: FastifyRequest) {
    const principal = request.principal ?? ANONYMOUS
    const ticket = admitted.get(request)
    const output = config.WS_COMPRESSION && takesOurDeflate(socket) ? deflated : plain
    const conn = new Connection(ticket?.connectionId ?? randomUUID(), socket, principal, config.WS_MAX_BUFFERED_BYTES, leaveHub, output)
    conn.meta = ticket?.meta ?? null
    const session = new Session(hub, conn, limits, onUnexpected, expiry, hooks.anyOn ? hooks : null, readState.frames)
    // Listeners go on synchronously: frames sent right after the upgrade must not be lost.
    listenTo(socket, session)
    releaseUpgrade(socket, onSocketError)
    hub.add(conn)
    admission.index.add(conn)
    readState.status.connected(conn)

    const rooms = urlRooms(request)
    const welcome = { type: 'welcome', connectionId: conn.id, instanceId: hub.instanceId, rooms, user: principal.user, rateLimitPerSec: limits.ratePerSec }
    session.holdUntil(Promise.all(rooms.map(room => hub.join(conn, room, null, noReply))).then(() => conn.welcome(welcome)))
    expiry.watch(conn) // last: a token that expired during the upgrade closes the socket at once
  }

  const common = {
    // Upgrades are bounded by admission control (WS_MAX_CONNECTIONS, per user), not the HTTP budget.
    config: { rateLimit: false as const },
    preValidation: auth.authenticate,
    preHandler: admit,
    handler: upgradeRequired,
    wsHandler: open
  }

  fastify.route({
    method: 'GET',
    url: '/ws',
    schema: {
      tags: ['websocket'],
      summary: 'Open a WebSocket, joined to no room or to `?room=`',
      querystring: WsQuerySchema,
      response: UPGRADE_RESPONSES
    },
    ...common
  })

  fastify.route({
    method: 'GET',
    url: '/ws/:room',
    schema: {
      tags: ['websocket'],
      summary: 'Open a WebSocket already joined to `{room}` (and to `?room=`)',
      params: RoomParamsSchema,
      querystring: WsQuerySchema,
      response: UPGRADE_RESPONSES
    },
    ...common
  })
}

export default wsRoutes
