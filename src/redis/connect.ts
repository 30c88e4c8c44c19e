/**
 * The one place that turns the configuration into Redis connections: REDIS_URL (one Redis),
 * REDIS_SENTINELS (the master that Sentinel names, followed across failovers) or
 * REDIS_CLUSTER_NODES (a Redis Cluster with sharded pub/sub). Each mode gives a command connection
 * (history scripts and publishing), the layout of names, and its way of subscribing; everything
 * above works the same on all three.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { ClusterSubscriptions } from './cluster-subscriptions.js'
import { withCommandDeadline } from './command-deadline.js'
import { redisLayout, type RedisLayout } from './layout.js'
import { SingleSubscriptions, type SubscriptionEvents, type Subscriptions } from './subscriptions.js'

/**
 * The settings read here, as the configuration names them (src/plugins/config.ts, whose `Config`
 * has them all): declared here so that this layer needs nothing from the plugins above it.
 */
export interface RedisConfig {
  REDIS_URL?: string
  REDIS_SENTINELS?: string
  REDIS_SENTINEL_NAME: string
  REDIS_SENTINEL_PASSWORD?: string
  REDIS_CLUSTER_NODES?: string
  REDIS_CHANNEL_PREFIX: string
  REDIS_COMMAND_TIMEOUT_MS: number
  REDIS_USERNAME?: string
  REDIS_PASSWORD?: string
  REDIS_TLS: boolean
}

export interface RedisConnection {
  /** The variable that chose the mode, for messages an operator reads. */
  readonly variable: 'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_CLUSTER_NODES'
  /** Connecting already; ready once `ready` is emitted. */
  readonly commands: Redis | Cluster
  readonly layout: RedisLayout
  /** The subscribing side; made once `commands` is ready (a cluster's slot map is known then). */
  subscriptions (events: SubscriptionEvents): Subscriptions
}

/**
 * Shutdown bound against a frozen Redis: ioredis's wait for the peer to close a dropped socket.
 */
const DISCONNECT_TIMEOUT_MS = 500
export const RETRY_MAX_DELAY_MS = 2000
/**
 * A command caught by a failover is failed after this many reconnects instead of ioredis's 20
 * (some 40 s), so a sender hears `unavailable` and resends while the new master takes over. One
 * Redis keeps the default: there is nowhere else to go.
 */
const FAILOVER_MAX_RETRIES = 2
/** How often a cluster's slot map is read again: a failover is noticed within this. */
const SLOTS_REFRESH_MS = 1000

/** ioredis retries forever; the delay doubles from 100 ms up to a cap low enough to find a returning Redis quickly. */
function retryStrategy (times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 10), RETRY_MAX_DELAY_MS) + Math.floor(Math.random() * 50)
}

/** A subscriber link resubscribes on `ready` itself (subscriber-link.ts) and must never wait on an offline queue. */
const SUBSCRIBER: RedisOptions = {
  autoResubscribe: false,
  autoResendUnfulfilledCommands: false,
  enableOfflineQueue: false
}

/**
 * A client that QUIT ends keeps its failover detector's connections to the sentinels (ioredis 6
 * drops them on disconnect() only): they would hold the process open and retry forever.
 */
function endWholly (client: Redis): Redis {
  return client.once('end', () => client.disconnect())
}

/** `host:port,host:port` (checked by the config schema) as ioredis node addresses. */
function nodes (list: string): Array<{ host: string, port: number }> {
  return list.split(',').map(node => {
    const at = node.lastIndexOf(':')
    return { host: node.slice(0, at), port: Number(node.slice(at + 1)) }
  })
}

/**
 * REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS, for every connection to a data node (cluster
 * nodes, the master Sentinel names): what `redis://user:password@` and `rediss://` give REDIS_URL.
 * TLS checks the server's certificate against Node's CAs (NODE_EXTRA_CA_CERTS adds a private CA).
 */
function credentials (config: RedisConfig): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  return {
    ...(config.REDIS_USERNAME !== undefined ? { username: config.REDIS_USERNAME } : {}),
    ...(config.REDIS_PASSWORD !== undefined ? { password: config.REDIS_PASSWORD } : {}),
    ...(config.REDIS_TLS ? { tls: {} } : {})
  }
}

/** Null when no Redis is configured (one instance, in-process hub). `name` prefixes connection names. */
export function connectRedis (config: RedisConfig, name: string): RedisConnection | null {
  const { REDIS_URL, REDIS_SENTINELS, REDIS_SENTINEL_NAME, REDIS_CLUSTER_NODES, REDIS_CHANNEL_PREFIX, REDIS_COMMAND_TIMEOUT_MS } = config
  // The command connection only: a subscriber's (un)subscribes are released by the link itself
  // when its connection drops (subscriber-link.ts), and it is made by `duplicate()`, unwrapped.
  const bounded = <T extends Redis | Cluster>(client: T): T => withCommandDeadline(client, REDIS_COMMAND_TIMEOUT_MS)
  const common: RedisOptions = {
    connectionName: `${name}:pub`,
    retryStrategy,
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    // Off: ioredis's auto-pipelining builds a Pipeline per event-loop turn and copies each command
    // into it, which cost more server CPU than the socket writes it saves. Measured side by side
    // (`npm run bench -- --baseline <commit with it on>`): 19 % less CPU per delivery in small
    // rooms and a higher peak in both fan-out shapes with it off.
    enableAutoPipelining: false,
    // A history script whose reply was lost with the connection may have run: sending it again
    // would store the message twice (a send without `key` has nothing to tell the copies apart).
    // It fails instead, the sender is told `unavailable`, and a resend with its key is deduplicated.
    autoResendUnfulfilledCommands: false
  }
  const single = (variable: RedisConnection['variable'], commands: Redis): RedisConnection => ({
    variable,
    commands,
    layout: redisLayout(REDIS_CHANNEL_PREFIX, 'PUBLISH'),
    // A duplicate follows the same Redis (or asks the same sentinels).
    subscriptions: (events) => new SingleSubscriptions(endWholly(commands.duplicate({ ...SUBSCRIBER, connectionName: `${name}:sub` })), events)
  })

  if (REDIS_URL !== undefined) return single('REDIS_URL', bounded(new Redis(REDIS_URL, common)))
  const auth = credentials(config)
  if (REDIS_SENTINELS !== undefined) {
    return single('REDIS_SENTINELS', bounded(endWholly(new Redis({
      ...common,
      ...auth,
      // The master and replicas over TLS when REDIS_TLS is set, and the sentinels too: one
      // deployment, one transport.
      ...(config.REDIS_TLS ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      ...(config.REDIS_SENTINEL_PASSWORD !== undefined ? { sentinelPassword: config.REDIS_SENTINEL_PASSWORD } : {}),
      sentinels: nodes(REDIS_SENTINELS),
      name: REDIS_SENTINEL_NAME,
      sentinelRetryStrategy: retryStrategy,
      // Hears +switch-master from the sentinels and reconnects at once, rather than when the
      // old master's socket happens to fail.
      failoverDetector: true,
      maxRetriesPerRequest: FAILOVER_MAX_RETRIES
    }))))
  }
  if (REDIS_CLUSTER_NODES !== undefined) {
    const cluster = bounded(new Cluster(nodes(REDIS_CLUSTER_NODES), {
      redisOptions: {
        ...auth,
        connectionName: common.connectionName,
        disconnectTimeout: DISCONNECT_TIMEOUT_MS,
        maxRetriesPerRequest: FAILOVER_MAX_RETRIES,
        autoResendUnfulfilledCommands: false
      },
      clusterRetryStrategy: retryStrategy,
      // Off, as above: each command goes straight to its node's connection.
      enableAutoPipelining: false,
      slotsRefreshInterval: SLOTS_REFRESH_MS,
      scaleReads: 'master'
    }))
    // Bench only (bench/lib/cluster-bench.mjs): room channels on classic pub/sub, to show what
    // every shard then pays for every message. Not a configuration: the schema does not know it.
    const classic = process.env.CHAT_API_BENCH_CLASSIC_PUBSUB === '1'
    const layout = redisLayout(REDIS_CHANNEL_PREFIX, classic ? 'PUBLISH' : 'SPUBLISH')
    return {
      variable: 'REDIS_CLUSTER_NODES',
      commands: cluster,
      layout,
      subscriptions: (events) => new ClusterSubscriptions({
        cluster,
        layout,
        events,
        connect: (host, port) => new Redis({
          ...SUBSCRIBER,
          ...auth,
          host,
          port,
          connectionName: `${name}:sub`,
          retryStrategy,
          disconnectTimeout: DISCONNECT_TIMEOUT_MS
        })
      })
    }
  }
  return null
}
