/**
 * LocalMarks (one instance's room.vacated / user.offline): the down event never comes before the
 * delay has passed by Date.now(), the clock its timestamp and a user's lastSeen are read from.
 * Timers keep a millisecond clock of their own that may run ahead of it; here Date.now() is made
 * to fall 20 ms behind once the check is queued, so a check fired by its timer alone would come 20 ms
 * early by Date.now().
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { LocalMarks } from '../../src/webhooks/delayed-marks.js'
import type { Webhooks } from '../../src/webhooks/webhooks.js'
import type { WebhookEventType } from '../../src/webhooks/events.js'

const DELAY_MS = 100
const LAG_MS = 20

function marks (events: Array<{ type: WebhookEventType, at: number }>): LocalMarks {
  const webhooks = { emit: (type: WebhookEventType) => { events.push({ type, at: Date.now() }) } } as unknown as Webhooks
  return new LocalMarks({ webhooks, delayMs: DELAY_MS }, {
    up: 'room.occupied',
    down: 'room.vacated',
    upData: room => JSON.stringify({ room }),
    downData: async room => JSON.stringify({ room })
  })
}

test('the down event waits for Date.now() to reach the due time, even when the timer fires first', async (t) => {
  const realNow = Date.now
  let lag = 0
  Date.now = () => realNow() - lag
  t.teardown(() => { Date.now = realNow })

  const events: Array<{ type: WebhookEventType, at: number }> = []
  const room = marks(events)
  room.up('r')
  const downAt = Date.now()
  room.down('r')
  lag = LAG_MS
  await sleep(DELAY_MS + 2 * LAG_MS + 50)
  t.same(events.map(e => e.type), ['room.occupied', 'room.vacated'])
  t.ok(events[1].at >= downAt + DELAY_MS, `room.vacated ${events[1].at - downAt} ms after the last member left (delay ${DELAY_MS} ms)`)
})

test('a second down restarts the delay from itself', async (t) => {
  const events: Array<{ type: WebhookEventType, at: number }> = []
  const room = marks(events)
  room.up('r')
  room.down('r')
  await sleep(DELAY_MS / 2)
  const secondAt = Date.now()
  room.down('r')
  await sleep(DELAY_MS + 50)
  t.same(events.map(e => e.type), ['room.occupied', 'room.vacated'], 'one event')
  t.ok(events[1].at >= secondAt + DELAY_MS, `${events[1].at - secondAt} ms after the second down`)
})
