/**
 * Configuration, validated once at start by @fastify/env. The schema is the only description of
 * the variables: it checks them, fills defaults, coerces strings, and gives the `config` type.
 * See @fastify/env's README (in node_modules).
 */
import fp from 'fastify-plugin'
import fastifyEnv from '@fastify/env'
import envSchema from 'env-schema'
import { Type, type Static } from 'typebox'
import type { FastifyPluginAsync } from 'fastify'
import { checkHookConfig } from '../hooks/hook-config.js'
import { parseWebhookSecret } from '../signing/standard-webhooks.js'
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from '../webhooks/events.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

const HOST_PORT_LIST = '^[^,\\s:]+:[0-9]{1,5}(,[^,\\s:]+:[0-9]{1,5})*$'

export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info' }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  /** A Redis Cluster (sharded pub/sub) instead of REDIS_URL: some of its nodes, `host:port,...`. */
  REDIS_CLUSTER_NODES: Type.Optional(Type.String({ pattern: HOST_PORT_LIST })),
  /** Sentinels that name the Redis master instead of REDIS_URL, `host:port,...`. */
  REDIS_SENTINELS: Type.Optional(Type.String({ pattern: HOST_PORT_LIST })),
  REDIS_SENTINEL_NAME: Type.String({ minLength: 1, default: 'mymaster' }),
  REDIS_CHANNEL_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$', default: 'chat-api' }),
  /** Deadline of every awaited Redis command: past it a send is `unavailable`, a lagging room closes its members 4010. */
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 2000 }),
  AUTH_ENABLED: Type.Boolean({ default: false }),
  JWT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  WS_MAX_MESSAGE_BYTES: Type.Integer({ minimum: 1, default: 65536 }),
  WS_MAX_ROOMS_PER_CONNECTION: Type.Integer({ minimum: 1, default: 32 }),
  WS_RATE_LIMIT_PER_SEC: Type.Integer({ minimum: 0, default: 50 }),
  WS_HEARTBEAT_MS: Type.Integer({ minimum: 0, default: 30000 }),
  WS_MAX_BUFFERED_BYTES: Type.Integer({ minimum: 1, default: 1048576 }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 10000 }),
  DEMO_ENABLED: Type.Boolean({ default: true }),
  // Version 2: history and recovery. 0 turns history, offsets, recovery and keys off.
  HISTORY_SIZE: Type.Integer({ minimum: 0, maximum: 100000, default: 100 }),
  HISTORY_TTL_SEC: Type.Integer({ minimum: 1, default: 600 }),
  /** Acknowledge a stored message only once this many replicas of its Redis master hold it (Redis WAIT). */
  HISTORY_MIN_REPLICAS: Type.Integer({ minimum: 0, default: 0 }),
  /** How long the replicas may take; past it the sender gets `unavailable`. */
  HISTORY_REPLICA_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 500 }),
  // Server API, metrics and admission control (version 2).
  /** Key of the server API (`X-API-Key`); a short key is guessable, so one under 32 characters refuses to start. */
  API_KEY: Type.Optional(Type.String({ minLength: 32 })),
  METRICS_ENABLED: Type.Boolean({ default: true }),
  /** Comma-separated origins allowed to open a socket, or `*`. */
  WS_ALLOWED_ORIGINS: Type.String({ minLength: 1, default: '*' }),
  WS_MAX_CONNECTIONS: Type.Integer({ minimum: 0, default: 0 }),
  WS_MAX_CONNECTIONS_PER_USER: Type.Integer({ minimum: 0, default: 0 }),
  // Presence: who is in each room on every instance, and which instances live.
  PRESENCE_ENABLED: Type.Boolean({ default: true }),
  /** A killed instance's connections leave every presence list within this many seconds. */
  PRESENCE_TTL_SEC: Type.Integer({ minimum: 1, maximum: 86400, default: 30 }),
  // Secure by default (version 3).
  /** When set, every token must carry this `aud` (a string, or a list holding it). */
  JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
  /** When set, every token must carry this `iss`. */
  JWT_ISSUER: Type.Optional(Type.String({ minLength: 1 })),
  /** HTTP requests per minute per caller (API key, token `sub`, else address); 0 turns the limit off. */
  HTTP_RATE_LIMIT_PER_MIN: Type.Integer({ minimum: 0, default: 600 }),
  /** `join` and `leave` frames per second per socket; 0 turns the limit off. */
  WS_JOIN_RATE_PER_SEC: Type.Integer({ minimum: 0, default: 10 }),
  // Compression (version 3): permessage-deflate, each message compressed once for all its sockets.
  /** Negotiate permessage-deflate with clients that offer it. */
  WS_COMPRESSION: Type.Boolean({ default: false }),
  /** Frames smaller than this go out plain: compressing them costs more CPU than it saves bytes. */
  WS_COMPRESSION_MIN_BYTES: Type.Integer({ minimum: 0, default: 1024 }),
  /** The service's public address (`https://chat.example.com`), named by the AsyncAPI document. */
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#]+' })),
  // Credentials of REDIS_CLUSTER_NODES and REDIS_SENTINELS (REDIS_URL carries its own).
  REDIS_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_TLS: Type.Boolean({ default: false }),
  /** The sentinels' own password (`requirepass` of the sentinels), when they have one. */
  REDIS_SENTINEL_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  // Hooks (version 3): a backend decides before the fact (docs/hooks.md); checked by checkHookConfig too.
  /** `POST HOOK_URL/connect`, `/join`, `/publish`; needs HOOK_SECRET. */
  HOOK_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#]+' })),
  /** Signs hook requests as webhooks are signed: `whsec_` + base64 of at least 24 bytes. */
  HOOK_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  /** Which hooks HOOK_URL serves, comma-separated; default all three. */
  HOOK_EVENTS: Type.Optional(Type.String({ pattern: '^[a-z, ]*$' })),
  /** Deadline of every hook call. */
  HOOK_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 1000 }),
  /** What a hook that times out or answers badly decides: `closed` refuses (`unavailable`), `open` allows. */
  HOOK_FAILURE: Type.Union([Type.Literal('closed'), Type.Literal('open')], { default: 'closed' }),
  // Read state (version 3): read cursors and last seen.
  /** How long a user's read cursors and last seen are kept after their last change (30 days). */
  READ_STATE_TTL_SEC: Type.Integer({ minimum: 1, default: 2592000 }),
  // Webhooks (version 3): signed events POSTed to WEBHOOK_URL, at least once (src/webhooks/).
  /** Where events are POSTed; unset: webhooks are off. */
  WEBHOOK_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#]+' })),
  /** `whsec_` then base64 of at least 24 bytes: the Standard Webhooks signing key. Required with WEBHOOK_URL. */
  WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  /** Comma-separated event types to send; unset: all. */
  WEBHOOK_EVENTS: Type.Optional(Type.String({ minLength: 1 })),
  /** An attempt not answered 2xx within this is retried. */
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 5000 }),
  /** Retries come 1 s, 2 s, 4 s, ... apart, at most this. */
  WEBHOOK_MAX_RETRY_DELAY_MS: Type.Integer({ minimum: 1000, default: 60000 }),
  /** An event not acknowledged this long after it happened is dropped (and counted). */
  WEBHOOK_RETRY_FOR_SEC: Type.Integer({ minimum: 1, default: 86400 }),
  /** room.vacated and user.offline wait this long: a reconnect within it makes no pair of events. */
  WEBHOOK_VACATED_DELAY_MS: Type.Integer({ minimum: 0, default: 5000 })
}, {
  // AUTH_ENABLED=true without a secret must not start: the error names JWT_SECRET. `type` makes
  // Ajv coerce "true" inside the `if` too, which it checks before the properties.
  if: { properties: { AUTH_ENABLED: { type: 'boolean', const: true } }, required: ['AUTH_ENABLED'] },
  then: { required: ['JWT_SECRET'] }
})

export type Config = Static<typeof ConfigSchema>
/** What may be passed in: every variable optional, strings accepted as from the environment. */
export type ConfigInput = { [K in keyof Config]?: Config[K] | string }

export interface ConfigPluginOptions {
  /** Values that win over the environment (plugin options, or a test's explicit data). */
  data?: ConfigInput
  /** Read process.env as well; default true. Tests pass false to stay independent of the shell. */
  env?: boolean
  /** Read a `.env` file from the working directory; default false (the server turns it on). */
  dotenv?: boolean
}

/**
 * Reads and checks the configuration without Fastify, for the server to fail fast (and name the
 * variable) before it builds anything. Throws `env/PORT must be integer`-style errors.
 */
export function loadConfig (opts: ConfigPluginOptions = {}): Config {
  const config = checkRedisMode(envSchema<Config>(envSchemaOptions(opts)))
  checkHookConfig(config)
  return checkWebhooks(config)
}

/** The variables that each pick a way to reach Redis; at most one may be set. */
export const REDIS_MODE_VARIABLES = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const

/** Credentials for the modes whose variable is a list of nodes. */
const REDIS_CREDENTIAL_VARIABLES = ['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS', 'REDIS_SENTINEL_PASSWORD'] as const

/** JSON Schema cannot say which two conflict in words an operator reads, so this check does. */
function checkRedisMode (config: Config): Config {
  const set = REDIS_MODE_VARIABLES.filter(name => config[name] !== undefined)
  if (set.length > 1) {
    throw new Error(`env: ${set.join(' and ')} are set together; set at most one of ${REDIS_MODE_VARIABLES.join(', ')}`)
  }
  // A URL carries its own credentials (redis://user:pass@host, rediss:// for TLS): two places
  // for one password would leave an operator guessing which one is used.
  if (config.REDIS_URL !== undefined) {
    const credential = REDIS_CREDENTIAL_VARIABLES.find(name => name === 'REDIS_TLS' ? config.REDIS_TLS : config[name] !== undefined)
    if (credential !== undefined) {
      throw new Error(`env: ${credential} applies to REDIS_CLUSTER_NODES and REDIS_SENTINELS; with REDIS_URL put the credentials in the URL (redis://user:password@host, rediss:// for TLS)`)
    }
  }
  if (config.REDIS_SENTINEL_PASSWORD !== undefined && config.REDIS_SENTINELS === undefined) {
    throw new Error('env: REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS')
  }
  return config
}

const configPlugin: FastifyPluginAsync<ConfigPluginOptions> = async (fastify, opts) => {
  await fastify.register(fastifyEnv, envSchemaOptions(opts))
  await fastify.after()
  checkRedisMode(fastify.config)
  checkHookConfig(fastify.config)
  checkWebhooks(fastify.config)
}

/** A webhook nobody can verify is worse than none: WEBHOOK_URL needs a well-formed secret. */
function checkWebhooks (config: Config): Config {
  if (config.WEBHOOK_SECRET !== undefined && parseWebhookSecret(config.WEBHOOK_SECRET) === undefined) {
    throw new Error('env: WEBHOOK_SECRET must be whsec_ followed by the base64 of at least 24 bytes')
  }
  if (config.WEBHOOK_URL !== undefined && config.WEBHOOK_SECRET === undefined) {
    throw new Error('env: WEBHOOK_URL is set without WEBHOOK_SECRET (whsec_ followed by the base64 of at least 24 bytes)')
  }
  const unknown = webhookEventList(config.WEBHOOK_EVENTS).find(type => !isWebhookEventType(type))
  if (unknown !== undefined) {
    throw new Error(`env: WEBHOOK_EVENTS names an unknown event type "${unknown}" (known: ${WEBHOOK_EVENT_TYPES.join(', ')})`)
  }
  return config
}

/** The types of WEBHOOK_EVENTS as written (unset: all). */
export function webhookEventList (text: string | undefined): string[] {
  if (text === undefined) return [...WEBHOOK_EVENT_TYPES]
  return text.split(',').map(type => type.trim()).filter(type => type !== '')
}

// env-schema sets `additionalProperties` on the schema it is given: each call gets its own copy.
function envSchemaOptions (opts: ConfigPluginOptions) {
  return {
    schema: structuredClone(ConfigSchema),
    data: opts.data ?? {},
    env: opts.env ?? true,
    dotenv: opts.dotenv ?? false
  }
}

export default fp(configPlugin, { name: 'chat-api-config', fastify: '5.x' })
