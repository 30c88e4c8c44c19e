/**
 * room.* and member.* events are cluster-wide truths: a reconnect within WEBHOOK_VACATED_DELAY_MS
 * makes no pair of events; the last member leaving one instance while another instance still has
 * one makes no room.vacated; a SIGKILLed instance's last members make member.left and room.vacated
 * within PRESENCE_TTL_SEC plus the delay. Each absence is paired with a later positive marker.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, eventually, listen } from '../helper.js'
import { TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { newWebhookSecret, startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js'
import { createInstance } from '../e2e/helpers/instances.js'

const DELAY_MS = 1500
const roomEvents = (receiver: WebhookReceiver, room: string) => receiver.received
  .filter(r => r.status === 204 && r.json.data.room === room && r.json.type.startsWith('room.'))
  .sort((a, b) => a.json.timestamp - b.json.timestamp)
  .map(r => r.json.type as string)

for (const mode of ['memory', 'redis'] as const) {
  test(`a reconnect within the delay makes no pair of events (${mode})`, async (t) => {
    const receiver = await startReceiver(t)
    const { url } = await listen(t, {
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: newWebhookSecret(),
      WEBHOOK_VACATED_DELAY_MS: DELAY_MS,
      ...(mode === 'redis' ? { REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: uniquePrefix() } : {})
    })
    const first = await connect(t, `${url}/ws/desk`)
    await eventually(() => roomEvents(receiver, 'desk').length === 1)
    t.ok(receiver.ofType('member.joined').some(e => e.data.connectionId === first.frames[0].connectionId && e.data.room === 'desk'), 'member.joined')
    first.ws.close()
    await sleep(DELAY_MS / 3)
    const again = await connect(t, `${url}/ws/desk`)
    await sleep(DELAY_MS * 2)
    again.ws.close()
    const closedAt = Date.now()
    await eventually(() => roomEvents(receiver, 'desk').length === 2)
    t.same(roomEvents(receiver, 'desk'), ['room.occupied', 'room.vacated'], 'one occupied, one vacated: the reconnect made none')
    const vacated = receiver.ofType('room.vacated')[0]
    t.ok(vacated.timestamp >= closedAt + DELAY_MS - 100, 'vacated once the delay after the last leave had passed')
    t.equal(receiver.ofType('member.left').length, 2)
  })
}

test('the last member leaving one instance while another instance has one: no room.vacated', async (t) => {
  const receiver = await startReceiver(t)
  const config = { REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: uniquePrefix(), WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: newWebhookSecret(), WEBHOOK_VACATED_DELAY_MS: DELAY_MS }
  const one = await listen(t, config)
  const two = await listen(t, config)
  const a = await connect(t, `${one.url}/ws/shared`)
  const b = await connect(t, `${two.url}/ws/shared`)
  await eventually(() => receiver.ofType('member.joined').length === 2)
  a.ws.close()
  await eventually(() => receiver.ofType('member.left').length === 1)
  await sleep(DELAY_MS * 2)
  b.ws.close()
  await eventually(() => roomEvents(receiver, 'shared').length === 2)
  t.same(roomEvents(receiver, 'shared'), ['room.occupied', 'room.vacated'], 'one occupied for two members on two instances, one vacated after the last')
  t.ok(receiver.ofType('room.vacated')[0].timestamp > receiver.ofType('member.left').at(-1).timestamp, 'vacated after the last member left')
})

test('a SIGKILLed instance\'s last members: member.left and room.vacated within PRESENCE_TTL_SEC + the delay', async (t) => {
  const receiver = await startReceiver(t)
  const TTL_SEC = 3
  const env = {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_CHANNEL_PREFIX: uniquePrefix(),
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: newWebhookSecret(),
    WEBHOOK_VACATED_DELAY_MS: DELAY_MS,
    PRESENCE_TTL_SEC: TTL_SEC
  }
  const survivor = await createInstance(t, { name: 'survivor', env })
  const doomed = await createInstance(t, { name: 'doomed', env })
  await survivor.start()
  await doomed.start()
  const lost = await connect(t, `${doomed.ws}/ws/lonely`)
  lost.ws.on('error', () => {})
  await eventually(() => roomEvents(receiver, 'lonely').length === 1)
  await doomed.stop('SIGKILL')
  const killedAt = Date.now()
  await eventually(() => roomEvents(receiver, 'lonely').length === 2, 30_000)
  const left = receiver.ofType('member.left').filter(e => e.data.room === 'lonely')
  t.equal(left.length, 1, 'one member.left')
  t.equal(left[0].data.connectionId, lost.frames[0].connectionId)
  const vacated = receiver.ofType('room.vacated')[0]
  // Received, not just raised: the bound includes a poll (0.5 s) and a send; slack for a loaded machine.
  const after = receiver.received.find(r => r.json.id === vacated.id)!.at - killedAt
  t.ok(after <= TTL_SEC * 1000 + DELAY_MS + 2000, `room.vacated ${after} ms after the kill (PRESENCE_TTL_SEC + delay: ${TTL_SEC * 1000 + DELAY_MS} ms, + 2 s slack)`)
})
