/**
 * chat-api as a Fastify plugin (the package's main export) and `buildApp`, which the server and
 * the tests use to get a ready-to-listen instance.
 *
 *   app.register(chatApi, { prefix: '/chat', REDIS_URL: 'redis://...' })
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import admissionPlugin from './plugins/admission.js'
import apiAuthPlugin from './plugins/api-auth.js'
import authPlugin from './plugins/auth.js'
import configPlugin, { type ConfigInput } from './plugins/config.js'
import docsPlugin from './plugins/docs.js'
import hubPlugin from './plugins/hub.js'
import hooksPlugin from './plugins/hooks.js'
import httpRateLimitPlugin from './plugins/http-rate-limit.js'
import metricsPlugin from './plugins/metrics.js'
import postGuardPlugin from './plugins/post-guard.js'
import presencePlugin from './plugins/presence.js'
import readStatePlugin from './plugins/read-state.js'
import redisPlugin from './plugins/redis.js'
import securityHeadersPlugin from './plugins/security-headers.js'
import websocketPlugin from './plugins/websocket.js'
import webhooksPlugin from './plugins/webhooks.js'
import demoRoutes from './routes/demo.js'
import healthRoutes from './routes/health.js'
import historyRoutes from './routes/history.js'
import presenceRoutes from './routes/presence.js'
import readStateRoutes from './routes/read-state.js'
import metricsRoutes from './routes/metrics.js'
import serverApiRoutes from './routes/server-api.js'
import statsRoutes from './routes/stats.js'
import wsRoutes from './routes/ws.js'
import { errorHandler, frameworkErrorHandler, notFoundHandler } from './error-handler.js'
import { DEFAULT_PREFIX } from './protocol.js'
import { ErrorResponseSchema } from './schemas/http.js'
import { redactedLogger, redactingChildLoggerFactory } from './redact.js'
import type { HookFunctions } from './hooks/types.js'

export interface ChatApiOptions extends ConfigInput {
  /** Path prefix of every route; default `/api/chat-api`. */
  prefix?: string
  /** Read process.env for variables not given here; default true. */
  env?: boolean
  /** Read a `.env` file from the working directory; default false. */
  dotenv?: boolean
  /** Embedded hooks (docs/hooks.md): async functions deciding connects, joins and publishes. */
  hooks?: HookFunctions
}

/** Everything of chat-api, in one encapsulated context under the prefix. */
const chatApiContext: FastifyPluginAsync<ChatApiOptions> = async (fastify, opts) => {
  const { prefix: _prefix, env, dotenv, hooks, ...data } = opts
  // First, so that every request of this context, 404s included, logs its URL without a token.
  fastify.setChildLoggerFactory(redactingChildLoggerFactory(fastify.childLoggerFactory))
  await fastify.register(configPlugin, { data, env, dotenv })
  fastify.setErrorHandler(errorHandler)
  fastify.setNotFoundHandler(notFoundHandler)
  // A host may have registered a schema of this $id already; adding it again would fail the boot.
  if (fastify.getSchema('ErrorResponse') === undefined) fastify.addSchema(ErrorResponseSchema)

  await fastify.register(websocketPlugin)
  await fastify.register(hubPlugin)
  await fastify.register(redisPlugin)
  await fastify.register(presencePlugin)
  await fastify.register(readStatePlugin)
  await fastify.register(authPlugin)
  await fastify.register(metricsPlugin)
  await fastify.register(hooksPlugin, { functions: hooks })
  await fastify.register(webhooksPlugin)
  await fastify.register(admissionPlugin)
  await fastify.register(apiAuthPlugin)
  // Headers first (nothing is refused before them: a 429 or 415 carries them too), then the rate
  // limit, the first hook that can refuse: every caller is counted.
  await fastify.register(securityHeadersPlugin)
  await fastify.register(httpRateLimitPlugin)
  await fastify.register(postGuardPlugin)
  await fastify.register(docsPlugin) // before the routes: swagger collects them as they are added
  await fastify.register(wsRoutes)
  await fastify.register(statsRoutes)
  await fastify.register(healthRoutes)
  await fastify.register(historyRoutes)
  await fastify.register(presenceRoutes)
  await fastify.register(readStateRoutes)
  await fastify.register(metricsRoutes)
  await fastify.register(serverApiRoutes)
  await fastify.register(demoRoutes)
}

/**
 * The root plugin. fastify-plugin keeps it from opening a context of its own, which would eat the
 * `prefix` option; the prefix goes to the inner context instead, so it defaults to /api/chat-api.
 */
export const chatApi = fp<ChatApiOptions>(async (fastify, opts) => {
  if (!fastify.hasPlugin('@fastify/websocket')) {
    // Our @fastify/websocket (inside our context) hears every upgrade on the server. Its hook that
    // closes the socket of an upgrade nobody takes (a 404, a host's HTTP route) only runs inside
    // our context; elsewhere that socket would stay open, leak, and hold the shutdown.
    fastify.addHook('onResponse', closeUntakenUpgrade)
  }
  await fastify.register(chatApiContext, { ...opts, prefix: opts.prefix ?? DEFAULT_PREFIX })
}, { name: 'chat-api', fastify: '5.x' })

/** An upgrade that got an HTTP response was not taken; a taken one never reaches onResponse. */
function closeUntakenUpgrade (request: FastifyRequest, _reply: unknown, done: () => void) {
  if (request.raw.headers.upgrade !== undefined) request.raw.socket.destroy()
  done()
}

export default chatApi

export interface BuildAppOptions {
  /** Configuration values; they win over the environment. */
  config?: ConfigInput
  /** Read process.env too; default false, so a test's app depends on nothing but its arguments. */
  env?: boolean
  dotenv?: boolean
  prefix?: string
  logger?: FastifyServerOptions['logger']
  /** The HTTP server's time-outs; defaults in HTTP_TIMEOUTS. */
  timeouts?: Partial<HttpTimeouts>
  /** Embedded hooks, as the plugin option. */
  hooks?: HookFunctions
}

export interface HttpTimeouts {
  /** A socket with no traffic for this long is closed: a client that sends nothing, or never reads its answer. */
  idleMs: number
  /** A request's headers and body must have arrived within this. */
  requestMs: number
  /** An idle keep-alive connection is closed after this; above nginx's 60 s upstream keepalive, as Fastify's default is. */
  keepAliveMs: number
  /** How often Node looks for requests past `requestMs` (its default is 30 s, which would double the bound). */
  checkEveryMs: number
}

/**
 * Fastify's connectionTimeout and requestTimeout are 0 (none): a client that stalls mid-request,
 * or never reads a large answer, would hold its socket and the answer's memory for ever.
 * WebSockets are not touched: ws clears the socket's time-out when it takes the socket.
 */
export const HTTP_TIMEOUTS: HttpTimeouts = Object.freeze({ idleMs: 30_000, requestMs: 30_000, keepAliveMs: 72_000, checkEveryMs: 5_000 })

export async function buildApp (opts: BuildAppOptions = {}): Promise<FastifyInstance> {
  const timeouts = { ...HTTP_TIMEOUTS, ...opts.timeouts }
  const app = Fastify({
    connectionTimeout: timeouts.idleMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    http: { connectionsCheckingInterval: timeouts.checkEveryMs },
    // The token-redacting serializer sits inside the logger options: Fastify has no top-level one.
    logger: redactedLogger(opts.logger),
    // /ready reports shutdown with our own error code; Fastify's fixed 503 would hide it.
    return503OnClosing: false,
    frameworkErrors: frameworkErrorHandler
  })
  // Fastify's own 404 logs and echoes the raw URL, `access_token` included.
  app.setNotFoundHandler(notFoundHandler)
  await app.register(chatApi, { ...opts.config, env: opts.env ?? false, dotenv: opts.dotenv, prefix: opts.prefix, hooks: opts.hooks })
  return app
}

export { ConfigSchema, loadConfig, type Config, type ConfigInput } from './plugins/config.js'
export type { Hub } from './hub/hub.js'
export type { ConnectInput, HookAnswer, HookFunctions, JoinInput, PublishInput } from './hooks/types.js'
export { redactedLogger, redactUrl } from './redact.js'
