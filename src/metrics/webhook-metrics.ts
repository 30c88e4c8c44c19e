/** Webhook metrics: `chat_api_webhooks_total{type,result}` and `chat_api_webhook_queue`, on chat-api's registry. */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { WebhookResult } from '../webhooks/dispatcher.js'
import type { WebhookEventType } from '../webhooks/events.js'

export function webhookMetrics (registry: Registry, waiting: () => number): (type: WebhookEventType, result: WebhookResult) => void {
  const counter = new Counter({
    name: 'chat_api_webhooks_total',
    help: 'Webhook attempts by event type and result: ok (acknowledged), retried (an attempt failed, another follows), dropped (given up or never queued)',
    labelNames: ['type', 'result'],
    registers: [registry]
  })
  new Gauge({ // eslint-disable-line no-new -- registered on the registry, read through it
    name: 'chat_api_webhook_queue',
    help: 'Webhook events waiting to be acknowledged (with Redis: the whole cluster\'s queue, as last read)',
    registers: [registry],
    collect () { this.set(waiting()) }
  })
  return (type, result) => counter.inc({ type, result })
}
