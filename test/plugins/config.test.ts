import t from 'tap'
import { buildApp } from '../../src/app.js'
import { ConfigSchema, loadConfig } from '../../src/plugins/config.js'

t.test('defaults of every variable', async t => {
  const config = loadConfig({ env: false })
  t.same(config, {
    PORT: 3000,
    HOST: '0.0.0.0',
    LOG_LEVEL: 'info',
    REDIS_CHANNEL_PREFIX: 'chat-api',
    REDIS_COMMAND_TIMEOUT_MS: 2000,
    REDIS_SENTINEL_NAME: 'mymaster',
    AUTH_ENABLED: false,
    WS_MAX_MESSAGE_BYTES: 65536,
    WS_MAX_ROOMS_PER_CONNECTION: 32,
    WS_RATE_LIMIT_PER_SEC: 50,
    WS_HEARTBEAT_MS: 30000,
    WS_MAX_BUFFERED_BYTES: 1048576,
    SHUTDOWN_TIMEOUT_MS: 10000,
    DEMO_ENABLED: true,
    HISTORY_SIZE: 100,
    HISTORY_TTL_SEC: 600,
    HISTORY_MIN_REPLICAS: 0,
    HISTORY_REPLICA_TIMEOUT_MS: 500,
    METRICS_ENABLED: true,
    WS_ALLOWED_ORIGINS: '*',
    WS_MAX_CONNECTIONS: 0,
    WS_MAX_CONNECTIONS_PER_USER: 0,
    PRESENCE_ENABLED: true,
    PRESENCE_TTL_SEC: 30,
    HTTP_RATE_LIMIT_PER_MIN: 600,
    WS_JOIN_RATE_PER_SEC: 10,
    WS_COMPRESSION: false,
    WS_COMPRESSION_MIN_BYTES: 1024,
    REDIS_TLS: false,
    READ_STATE_TTL_SEC: 2592000,
    HOOK_TIMEOUT_MS: 1000,
    HOOK_FAILURE: 'closed',
    WEBHOOK_TIMEOUT_MS: 5000,
    WEBHOOK_MAX_RETRY_DELAY_MS: 60000,
    WEBHOOK_RETRY_FOR_SEC: 86400,
    WEBHOOK_VACATED_DELAY_MS: 5000
  })
})

t.test('strings from the environment are coerced', async t => {
  const config = loadConfig({ env: false, data: { PORT: '8080', AUTH_ENABLED: 'true', JWT_SECRET: 's', WS_RATE_LIMIT_PER_SEC: '0' } })
  t.equal(config.PORT, 8080)
  t.equal(config.AUTH_ENABLED, true)
  t.equal(config.WS_RATE_LIMIT_PER_SEC, 0)
})

t.test('an invalid value stops the start with a message naming the variable', async t => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: 'abc' }, 'env/PORT must be integer'],
    [{ PORT: '70000' }, 'env/PORT must be <= 65535'],
    [{ WS_RATE_LIMIT_PER_SEC: '-1' }, 'env/WS_RATE_LIMIT_PER_SEC must be >= 0'],
    [{ WS_MAX_MESSAGE_BYTES: '0' }, 'env/WS_MAX_MESSAGE_BYTES must be >= 1'],
    [{ WS_MAX_ROOMS_PER_CONNECTION: '1.5' }, 'env/WS_MAX_ROOMS_PER_CONNECTION must be integer'],
    [{ WS_HEARTBEAT_MS: 'soon' }, 'env/WS_HEARTBEAT_MS must be integer'],
    [{ WS_MAX_BUFFERED_BYTES: '-5' }, 'env/WS_MAX_BUFFERED_BYTES must be >= 1'],
    [{ SHUTDOWN_TIMEOUT_MS: '-1' }, 'env/SHUTDOWN_TIMEOUT_MS must be >= 0'],
    [{ AUTH_ENABLED: 'maybe' }, 'env/AUTH_ENABLED must be boolean'],
    [{ REDIS_URL: 'localhost:6379' }, 'env/REDIS_URL must match pattern'],
    [{ REDIS_CHANNEL_PREFIX: 'has space' }, 'env/REDIS_CHANNEL_PREFIX must match pattern'],
    [{ REDIS_CLUSTER_NODES: 'redis://127.0.0.1:7000' }, 'env/REDIS_CLUSTER_NODES must match pattern'],
    [{ REDIS_SENTINELS: '127.0.0.1' }, 'env/REDIS_SENTINELS must match pattern'],
    [{ LOG_LEVEL: 'loud' }, 'env/LOG_LEVEL must be equal to constant'],
    [{ AUTH_ENABLED: 'true' }, "env must have required property 'JWT_SECRET'"],
    [{ API_KEY: 'short-key' }, 'env/API_KEY must NOT have fewer than 32 characters'],
    [{ METRICS_ENABLED: 'sometimes' }, 'env/METRICS_ENABLED must be boolean'],
    [{ WS_MAX_CONNECTIONS: '-1' }, 'env/WS_MAX_CONNECTIONS must be >= 0'],
    [{ WS_MAX_CONNECTIONS_PER_USER: 'many' }, 'env/WS_MAX_CONNECTIONS_PER_USER must be integer'],
    [{ READ_STATE_TTL_SEC: '0' }, 'env/READ_STATE_TTL_SEC must be >= 1']
  ]
  for (const [data, message] of cases) {
    t.throws(() => loadConfig({ env: false, data }), { message: new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }, message)
    await t.rejects(buildApp({ config: data }), { message: new RegExp(Object.keys(data)[0] === 'AUTH_ENABLED' && data.AUTH_ENABLED === 'true' ? 'JWT_SECRET' : Object.keys(data)[0]) }, `buildApp: ${message}`)
  }
})

t.test('the schema lists every variable of .env.example', async t => {
  const { readFile } = await import('node:fs/promises')
  const example = await readFile(new URL('../../.env.example', import.meta.url), 'utf8')
  const listed = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map(m => m[1]).sort()
  t.same(listed, Object.keys(ConfigSchema.properties).sort())
})

t.test('two ways to reach Redis refuse to start, naming both', async t => {
  const url = 'redis://127.0.0.1:6379'
  const nodes = '127.0.0.1:7000,127.0.0.1:7001'
  const cases: Array<[Record<string, string>, string]> = [
    [{ REDIS_URL: url, REDIS_CLUSTER_NODES: nodes }, 'REDIS_URL and REDIS_CLUSTER_NODES are set together'],
    [{ REDIS_URL: url, REDIS_SENTINELS: nodes }, 'REDIS_URL and REDIS_SENTINELS are set together'],
    [{ REDIS_CLUSTER_NODES: nodes, REDIS_SENTINELS: nodes }, 'REDIS_CLUSTER_NODES and REDIS_SENTINELS are set together']
  ]
  for (const [data, message] of cases) {
    t.throws(() => loadConfig({ env: false, data }), { message: new RegExp(message) }, message)
    await t.rejects(buildApp({ config: data }), { message: new RegExp(message) }, `buildApp: ${message}`)
  }
  const one = loadConfig({ env: false, data: { REDIS_CLUSTER_NODES: nodes } })
  t.equal(one.REDIS_CLUSTER_NODES, nodes, 'one of them alone is accepted')
})
