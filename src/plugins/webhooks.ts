/**
 * Webhooks (WEBHOOK_URL set): the queue (Redis stream, else memory), the dispatcher that sends
 * from it, and the events the hub and presence raise. Off, this plugin adds nothing.
 */
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { webhookMetrics } from '../metrics/webhook-metrics.js'
import { parseWebhookSecret } from '../signing/standard-webhooks.js'
import { Dispatcher, type WebhookResult } from '../webhooks/dispatcher.js'
import type { WebhookEventType } from '../webhooks/events.js'
import { MemoryStore } from '../webhooks/memory-store.js'
import { RedisStore } from '../webhooks/redis-store.js'
import { WebhookSender } from '../webhooks/sender.js'
import { Webhooks } from '../webhooks/webhooks.js'
import { watchPresence } from '../webhooks/presence-events.js'
import { watchUsers } from '../webhooks/user-events.js'
import { webhookEventList } from './config.js'

const webhooksPlugin: FastifyPluginAsync = async (fastify) => {
  const config = fastify.config
  const { WEBHOOK_URL, WEBHOOK_SECRET } = config
  if (WEBHOOK_URL === undefined) return
  const key = parseWebhookSecret(WEBHOOK_SECRET ?? '')
  // config.ts refused to start already; this keeps the types honest.
  if (key === undefined) throw new Error('env: WEBHOOK_URL is set without a valid WEBHOOK_SECRET')
  const { hub, chatApiRedis: redis, log } = fastify

  let counted: (type: WebhookEventType, result: WebhookResult) => void = () => {}
  const count = (type: WebhookEventType, result: WebhookResult): void => counted(type, result)
  const store = redis === null
    ? new MemoryStore(event => count(event.type, 'dropped'))
    : new RedisStore({ client: redis.client, prefix: config.REDIS_CHANNEL_PREFIX, consumer: hub.instanceId, log })
  const sender = new WebhookSender({ url: WEBHOOK_URL, key, timeoutMs: config.WEBHOOK_TIMEOUT_MS })
  const dispatcher = new Dispatcher({
    store,
    send: event => sender.send(event),
    maxRetryDelayMs: config.WEBHOOK_MAX_RETRY_DELAY_MS,
    retryForMs: config.WEBHOOK_RETRY_FOR_SEC * 1000,
    counted: count,
    log
  })
  const webhooks = new Webhooks({
    store,
    dispatcher,
    types: new Set(webhookEventList(config.WEBHOOK_EVENTS) as WebhookEventType[]),
    counted: count,
    log
  })
  if (fastify.metrics !== null) counted = webhookMetrics(fastify.metrics.registry, () => webhooks.waiting)
  hub.webhooks = webhooks
  const presenceEvents = watchPresence({ fastify, webhooks, delayMs: config.WEBHOOK_VACATED_DELAY_MS })
  const userEvents = watchUsers({ fastify, webhooks, delayMs: config.WEBHOOK_VACATED_DELAY_MS })

  log.info({ url: WEBHOOK_URL, queue: redis === null ? 'memory' : 'redis', presenceEvents, userEvents },
    redis === null
      ? 'webhooks on; no Redis: the queue is in memory, and events not yet acknowledged are lost if this process stops'
      : 'webhooks on; events are queued in Redis before they are sent')
  dispatcher.start()

  fastify.addHook('onClose', async () => {
    dispatcher.close()
    store.close()
    await sender.close()
  })
}

export default fp(webhooksPlugin, {
  name: 'chat-api-webhooks',
  fastify: '5.x',
  dependencies: ['chat-api-config', 'chat-api-hub', 'chat-api-redis', 'chat-api-presence', 'chat-api-read-state', 'chat-api-metrics']
})
