/**
 * How to start each target. Every server runs under `--expose-gc` with the preload that lets the
 * harness trigger a collection before reading memory; nothing else differs from a plain start.
 */
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PRELOAD = fileURLToPath(new URL('./preload.mjs', import.meta.url))
const HUGE_BUFFER_BYTES = String(1 << 30)
const CHAT_API_ENV = {
  HOST: '127.0.0.1',
  WS_RATE_LIMIT_PER_SEC: '0',
  WS_MAX_BUFFERED_BYTES: HUGE_BUFFER_BYTES,
  WS_HEARTBEAT_MS: '0',
  LOG_LEVEL: 'warn'
}

export const TARGETS = {
  floor: {
    label: 'floor (ws + ioredis)',
    protocol: 'chat',
    script: 'bench/targets/floor.mjs',
    env: { WS_MAX_BUFFERED_BYTES: HUGE_BUFFER_BYTES }
  },
  'chat-api': {
    label: 'chat-api',
    protocol: 'chat',
    script: 'dist/server.js',
    env: CHAT_API_ENV
  },
  // The same server without Prometheus metrics (on by default), to show what counting costs:
  // `npm run bench -- --targets floor,chat-api,chat-api-nometrics`.
  'chat-api-nometrics': {
    label: 'chat-api, METRICS_ENABLED=false',
    protocol: 'chat',
    script: 'dist/server.js',
    env: { ...CHAT_API_ENV, METRICS_ENABLED: 'false' }
  },
  // A publish hook over HTTP on every message, answered at once by a server in the same process:
  // `npm run bench -- --targets chat-api,chat-api-hooks --scenarios fanout`.
  'chat-api-hooks': {
    label: 'chat-api, publish hook over HTTP',
    protocol: 'chat',
    script: 'bench/targets/chat-api-hooked.mjs',
    env: CHAT_API_ENV
  },
  // Webhooks on: message.stored for every message to a local receiver that answers at once.
  // `npm run bench -- --rounds 1 --scenarios fanout,small-rooms --targets floor,chat-api,chat-api-webhooks`.
  'chat-api-webhooks': {
    label: 'chat-api, webhooks on (message.stored)',
    protocol: 'chat',
    script: 'bench/targets/chat-api-webhooks.mjs',
    env: CHAT_API_ENV
  },
  // History off (on by default): what storing, numbering and recovery cost on the fan-out path.
  // `npm run bench -- --targets floor,chat-api,chat-api-nohistory`.
  'chat-api-nohistory': {
    label: 'chat-api, HISTORY_SIZE=0',
    protocol: 'chat',
    script: 'dist/server.js',
    env: { ...CHAT_API_ENV, HISTORY_SIZE: '0' }
  },
  // Durable acknowledgements: a message is acknowledged once one replica has it (one WAIT per
  // group-commit call). The harness gives the run's Redis a replica for it (`replica: true`).
  // `npm run bench -- --targets chat-api,chat-api-durable --scenarios fanout,small-rooms`.
  'chat-api-durable': {
    label: 'chat-api, HISTORY_MIN_REPLICAS=1',
    protocol: 'chat',
    script: 'dist/server.js',
    env: { ...CHAT_API_ENV, HISTORY_MIN_REPLICAS: '1' },
    replica: true
  },
  // Presence off (on by default): what presence costs joins and leaves in the churn scenario.
  // `npm run bench -- --targets floor --churn-targets chat-api,chat-api-nopresence`.
  'chat-api-nopresence': {
    label: 'chat-api, PRESENCE_ENABLED=false',
    protocol: 'chat',
    script: 'dist/server.js',
    env: { ...CHAT_API_ENV, PRESENCE_ENABLED: 'false' }
  },
  socketio: {
    label: 'Socket.IO 4 + redis-adapter',
    protocol: 'sio',
    script: 'bench/targets/socketio.mjs',
    env: {}
  },
  // The `compression` scenario's two compressed targets (bench/scenarios/compression.mjs).
  'chat-api-deflate': {
    label: 'chat-api, WS_COMPRESSION=true',
    protocol: 'chat',
    script: 'dist/server.js',
    env: { ...CHAT_API_ENV, WS_COMPRESSION: 'true' }
  },
  'socketio-deflate': {
    label: 'Socket.IO 4 + redis-adapter, perMessageDeflate on',
    protocol: 'sio',
    script: 'bench/targets/socketio.mjs',
    env: { SIO_DEFLATE: 'true' }
  }
}

/** [command, args, env] for one instance of `name`; `redisEnv` replaces REDIS_URL (a cluster, say). */
/** Whether `name` needs a replica of the run's Redis (see chat-api-durable). */
export function needsReplica (name) {
  return TARGETS[name]?.replica === true
}

export function command (name, { port, redisUrl, redisEnv = { REDIS_URL: redisUrl }, prefix, nodeFlags = [] }) {
  const target = TARGETS[name]
  return [
    process.execPath,
    ['--expose-gc', '--import', PRELOAD, ...nodeFlags, target.script],
    { ...target.env, PORT: String(port), ...redisEnv, REDIS_CHANNEL_PREFIX: channelPrefix(prefix), NODE_ENV: 'production' }
  ]
}

/** REDIS_CHANNEL_PREFIX allows letters, digits and `_.:-`: a target name like `chat-api@6dedcd1` is made to fit. */
function channelPrefix (prefix) {
  return prefix.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 64)
}
