/**
 * A host application that embeds chat-api, as a platform team would: its own Fastify app, its own
 * login and tokens, and chat-api's plugins under a prefix of its own (/team-chat).
 *
 * - POST /login {"user","password"} answers {"token"}: a JWT the host signs with its own
 *   @fastify/jwt, for chat-api (audience `team-chat`, issuer `host-app`).
 * - GET /me checks that token with the host's own `request.jwtVerify()`.
 * - /team-chat/ws/{room}?access_token=... is chat-api's WebSocket; it takes the host's tokens
 *   because it is given the same secret, audience and issuer.
 *
 * Environment: PORT (8080; 0 picks a free one), HOST (127.0.0.1), REDIS_URL (unset: one instance,
 * rooms in memory), HOST_JWT_SECRET (at least 32 bytes; unset: a random one for this run).
 */
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import chatApi from 'chat-api'

// The demo's users; a real host checks its own user store.
const USERS = { ada: 'lovelace', grace: 'hopper' }
const TOKEN_CLAIMS = { aud: 'team-chat', iss: 'host-app' }

const secret = process.env.HOST_JWT_SECRET ?? randomBytes(32).toString('hex')
const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })
if (process.env.HOST_JWT_SECRET === undefined) app.log.warn('HOST_JWT_SECRET is unset: tokens are signed with a random secret, valid for this run only')

// The host's own WebSocket server: chat-api uses it rather than registering a second one.
await app.register(fastifyWebsocket)
// The host's own JWT: `app.jwt` and `request.jwtVerify()` stay the host's; chat-api keeps its
// verifier in a namespace of its own.
await app.register(fastifyJwt, { secret, sign: { ...TOKEN_CLAIMS, expiresIn: '1h' }, verify: { allowedAud: TOKEN_CLAIMS.aud, allowedIss: TOKEN_CLAIMS.iss } })

app.post('/login', {
  schema: {
    body: {
      type: 'object',
      required: ['user', 'password'],
      properties: { user: { type: 'string' }, password: { type: 'string' } },
      additionalProperties: false
    }
  }
}, async (request, reply) => {
  const { user, password } = request.body
  if (USERS[user] === undefined || USERS[user] !== password) return reply.code(401).send({ error: 'bad user or password' })
  // `sub` is who chat-api says sent a message; `rooms` the rooms this user may join.
  return { token: app.jwt.sign({ sub: user, rooms: ['team'] }) }
})

app.get('/me', { onRequest: (request) => request.jwtVerify() }, async (request) => ({ user: request.user.sub }))

await app.register(chatApi, {
  prefix: '/team-chat',
  env: false, // everything chat-api is told comes from here, not from the host's environment
  REDIS_URL: process.env.REDIS_URL,
  AUTH_ENABLED: true,
  JWT_SECRET: secret,
  JWT_AUDIENCE: TOKEN_CLAIMS.aud,
  JWT_ISSUER: TOKEN_CLAIMS.iss
})

await app.listen({ port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '127.0.0.1' })

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.log.info({ signal }, 'closing')
    app.close().then(() => process.exit(0), (err) => {
      app.log.error({ err }, 'close failed')
      process.exit(1)
    })
  })
}
