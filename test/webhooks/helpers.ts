/**
 * Shared by the webhook event tests (presence-events, user-events): a receiver and the config that
 * sends it the events, two instance processes to SIGKILL one of, and the events about one room or
 * user in the order they happened.
 */
import { TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { newWebhookSecret, startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js'
import { createInstance, type Env, type Instance } from '../e2e/helpers/instances.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * A receiver (closed at teardown), and the config that sends it every event with `delayMs` as
 * WEBHOOK_VACATED_DELAY_MS: in memory, or on the test Redis under a channel prefix of its own.
 */
export async function eventReceiver (t: Teardown, delayMs: number, mode: 'memory' | 'redis' = 'redis') {
  const receiver = await startReceiver(t)
  const webhook = { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: newWebhookSecret(), WEBHOOK_VACATED_DELAY_MS: delayMs }
  const config = mode === 'redis' ? { ...webhook, REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: uniquePrefix() } : webhook
  return { receiver, config }
}

/** Two instance processes with `env`, both started (ready): `doomed` is the one to SIGKILL. */
export async function survivorAndDoomed (t: Teardown, env: Env): Promise<{ survivor: Instance, doomed: Instance }> {
  const survivor = await createInstance(t, { name: 'survivor', env })
  const doomed = await createInstance(t, { name: 'doomed', env })
  await Promise.all([survivor.start(), doomed.start()])
  return { survivor, doomed }
}

/** The acknowledged (204) events whose type starts with `prefix` and whose `data[field]` is `value`, oldest first. */
export function eventsAbout (receiver: WebhookReceiver, prefix: string, field: string, value: string): any[] {
  return receiver.received
    .filter(r => r.status === 204 && r.json?.type.startsWith(prefix) && r.json.data[field] === value)
    .map(r => r.json)
    .sort((a, b) => a.timestamp - b.timestamp)
}
