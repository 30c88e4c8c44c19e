/**
 * room.* and member.* events are cluster-wide truths: a reconnect within WEBHOOK_VACATED_DELAY_MS
 * makes no pair of events; a room emptied again within the delay is vacated the delay after its
 * last leave; the last member leaving one instance while another instance still has
 * one makes no room.vacated; a SIGKILLed instance's last members make member.left and room.vacated
 * within PRESENCE_TTL_SEC plus the delay. Each absence is paired with a later positive marker.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, eventually, listen } from '../helper.js'
import type { WebhookReceiver } from '../helpers/webhook-receiver.js'
import { eventReceiver, eventsAbout, survivorAndDoomed } from './helpers.js'

const DELAY_MS = 1500
const roomEvents = (receiver: WebhookReceiver, room: string): string[] => eventsAbout(receiver, 'room.', 'room', room).map(e => e.type)

for (const mode of ['memory', 'redis'] as const) {
  test(`a reconnect within the delay makes no pair of events (${mode})`, async (t) => {
    const { receiver, config } = await eventReceiver(t, DELAY_MS, mode)
    const { url } = await listen(t, config)
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

  test(`a room emptied again within the delay is vacated the delay after its last leave, not its first (${mode})`, async (t) => {
    const { receiver, config } = await eventReceiver(t, DELAY_MS, mode)
    const { url } = await listen(t, config)
    const leaves = () => receiver.ofType('member.left').filter(e => e.data.room === 'twice')
    const first = await connect(t, `${url}/ws/twice`)
    await eventually(() => roomEvents(receiver, 'twice').length === 1)
    first.ws.close()
    await eventually(() => leaves().length === 1)
    await sleep(DELAY_MS / 2)
    const again = await connect(t, `${url}/ws/twice`)
    await eventually(() => receiver.ofType('member.joined').filter(e => e.data.room === 'twice').length === 2)
    again.ws.close()
    await eventually(() => roomEvents(receiver, 'twice').length === 2)
    t.same(roomEvents(receiver, 'twice'), ['room.occupied', 'room.vacated'])
    const [, last] = leaves()
    const vacated = receiver.ofType('room.vacated')[0]
    // Counted from the first leave, the check would have come about DELAY_MS / 2 after the last one.
    t.ok(vacated.timestamp >= last.timestamp + DELAY_MS - 50, `vacated ${vacated.timestamp - last.timestamp} ms after the last leave (delay ${DELAY_MS} ms)`)
  })
}

test('the last member leaving one instance while another instance has one: no room.vacated', async (t) => {
  const { receiver, config } = await eventReceiver(t, DELAY_MS)
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
  const { receiver, config } = await eventReceiver(t, DELAY_MS)
  const TTL_SEC = 3
  const { doomed } = await survivorAndDoomed(t, { ...config, PRESENCE_TTL_SEC: TTL_SEC })
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
