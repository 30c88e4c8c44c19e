/**
 * chat-api's Prometheus metrics on a registry of their own (two apps in one process, or a host with
 * its own registry, never collide). The hot path only adds to plain numbers; prom-client reads
 * them at scrape time through `collect`, so a delivery costs no label lookup.
 * See prom-client's README (in node_modules/prom-client).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { HubGauges, HubObserver, PublishKind } from '../hub/observer.js'
import { frameTs } from './frame-ts.js'
import type { PresenceStats } from '../presence/presence.js'
import type { HookObserver } from '../hooks/hooks.js'
import type { HookName } from '../hooks/types.js'

/** Hook call buckets, seconds: a local hook server answers in the first few; HOOK_TIMEOUT_MS's default is 1 s. */
const HOOK_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/** Delivery lag buckets, seconds: a healthy cluster sits in the first few. */
const LAG_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

export interface ChatMetricsOptions {
  hub: HubGauges
  /** Export `chat_api_redis_up`: only when a broker carries messages across instances. */
  redis: boolean
}

/** Counts by label value, moved into the prom-client counter at each scrape. */
function pendingCounter (registry: Registry, name: string, help: string, label: string) {
  const pending = new Map<string | number, number>()
  new Counter({ // eslint-disable-line no-new -- registered on the registry, read through it
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect () {
      for (const [value, count] of pending) this.inc({ [label]: value }, count)
      pending.clear()
    }
  })
  return (value: string | number, count = 1): void => {
    pending.set(value, (pending.get(value) ?? 0) + count)
  }
}

export class ChatMetrics implements HubObserver, HookObserver {
  readonly registry = new Registry()
  private deliveries = 0
  private reconnects = 0
  private epochChanges = 0
  private readonly lag: Histogram
  private readonly hookSeconds: Histogram<'hook'>
  private readonly hookFailures: (hook: string) => void
  readonly published: (kind: PublishKind) => void
  readonly frameReceived: (type: string) => void
  readonly errorSent: (code: string) => void
  readonly closed: (code: number) => void

  constructor ({ hub, redis }: ChatMetricsOptions) {
    const registry = this.registry
    collectDefaultMetrics({ register: registry })
    const self = this // prom-client calls `collect` with the metric as `this`
    new Gauge({ // eslint-disable-line no-new
      name: 'chat_api_connections',
      help: 'Open sockets of this instance',
      registers: [registry],
      collect () { this.set(hub.connections.size) }
    })
    new Gauge({ // eslint-disable-line no-new
      name: 'chat_api_rooms',
      help: 'Rooms with a member on this instance',
      registers: [registry],
      collect () { this.set(hub.roomCount) }
    })
    this.frameReceived = pendingCounter(registry, 'chat_api_frames_received_total', 'Client frames by type (invalid: unparsable or unknown)', 'type')
    this.published = pendingCounter(registry, 'chat_api_messages_published_total', 'Messages accepted on this instance, by kind (room, broadcast, transient, api)', 'kind')
    new Counter({ // eslint-disable-line no-new
      name: 'chat_api_deliveries_total',
      help: 'Message and broadcast frames written to this instance\'s sockets, replays included',
      registers: [registry],
      collect () {
        this.inc(self.deliveries)
        self.deliveries = 0
      }
    })
    this.errorSent = pendingCounter(registry, 'chat_api_errors_total', 'Error frames sent, by code', 'code')
    this.closed = pendingCounter(registry, 'chat_api_closes_total', 'Sockets this instance closed, by close code', 'code')
    if (redis) {
      new Gauge({ // eslint-disable-line no-new
        name: 'chat_api_redis_up',
        help: '1 while Redis is connected and subscribed, else 0',
        registers: [registry],
        collect () { this.set(hub.brokerStatus === 'connected' ? 1 : 0) }
      })
    }
    new Counter({ // eslint-disable-line no-new
      name: 'chat_api_redis_reconnects_total',
      help: 'Redis connections re-established after a loss',
      registers: [registry],
      collect () {
        this.inc(self.reconnects)
        self.reconnects = 0
      }
    })
    new Counter({ // eslint-disable-line no-new
      name: 'chat_api_epoch_changes_total',
      help: 'Rooms whose feed on this instance moved to a new epoch: their history was lost (expired, Redis flushed or restarted empty) or rolled back (a failover that lost writes)',
      registers: [registry],
      collect () {
        this.inc(self.epochChanges)
        self.epochChanges = 0
      }
    })
    // Presence, when on: read from the hub's presence at scrape time (the plugin sets it after us).
    new Gauge({ // eslint-disable-line no-new
      name: 'chat_api_presence_members',
      help: 'Presence entries of this instance\'s connections (one per connection and room)',
      registers: [registry],
      collect () { this.set(hub.presence?.stats().members ?? 0) }
    })
    const presenceCounter = (name: string, help: string, read: (stats: PresenceStats) => number) => {
      let counted = 0
      new Counter({ // eslint-disable-line no-new
        name,
        help,
        registers: [registry],
        collect () {
          const stats = hub.presence?.stats()
          if (stats === undefined) return
          this.inc(read(stats) - counted)
          counted = read(stats)
        }
      })
    }
    presenceCounter('chat_api_presence_expired_total',
      'Expired presence leases (of dead or cut-off instances) this instance removed, each announced with one member_left',
      stats => stats.expired)
    presenceCounter('chat_api_presence_reasserted_total',
      'Presence leases of this instance found missing from Redis and written again (Redis lost them, or they expired in a stall)',
      stats => stats.reasserted)
    // Hooks (version 3): one observation per call; a hook that is off is never called, so never listed.
    this.hookSeconds = new Histogram({
      name: 'chat_api_hook_seconds',
      help: 'Duration of hook calls (connect, join, publish), failed ones included',
      labelNames: ['hook'],
      buckets: HOOK_BUCKETS_S,
      registers: [registry]
    })
    this.hookFailures = pendingCounter(registry, 'chat_api_hook_failures_total',
      'Hook calls that timed out, threw, answered non-2xx or malformed (HOOK_FAILURE decided), or rewrote data past WS_MAX_MESSAGE_BYTES', 'hook')
    // Compression (version 3): what the sockets cost on the wire, after compression.
    let sentCounted = 0
    new Counter({ // eslint-disable-line no-new
      name: 'chat_api_bytes_sent_total',
      help: 'Bytes of WebSocket frames written to this instance\'s sockets, after compression, headers included (pings and closes not counted)',
      registers: [registry],
      collect () {
        this.inc(hub.sent.bytes - sentCounted)
        sentCounted = hub.sent.bytes
      }
    })
    this.lag = new Histogram({
      name: 'chat_api_delivery_lag_seconds',
      help: 'From a message\'s ts to its write on this instance',
      buckets: LAG_BUCKETS_S,
      registers: [registry]
    })
  }

  delivered (recipients: number, frame: Buffer): void {
    this.deliveries += recipients
    const ts = frameTs(frame)
    // Clocks of two instances may disagree by a little: a message is never early.
    if (ts >= 0) this.lag.observe(Math.max(0, Date.now() - ts) / 1000)
  }

  hookCalled (hook: HookName, seconds: number, failed: boolean): void {
    this.hookSeconds.observe({ hook }, seconds)
    if (failed) this.hookFailures(hook)
  }

  replayed (frames: number): void {
    this.deliveries += frames
  }

  redisReconnected (): void {
    this.reconnects++
  }

  epochChanged (): void {
    this.epochChanges++
  }
}
