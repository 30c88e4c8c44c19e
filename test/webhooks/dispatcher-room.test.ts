/**
 * The dispatcher holds at most `maxHeld` events and, while attempts are in flight, skips reads too
 * small to be worth a round trip. Events that only wait for a retry (a receiver refusing them for
 * hours) are not in flight: they must not stop the others from being read and sent. The store is
 * the in-memory one: the behaviour under test is the dispatcher's.
 */
import t from 'tap'
import { Dispatcher } from '../../src/webhooks/dispatcher.js'
import { webhookEvent } from '../../src/webhooks/events.js'
import { MemoryStore } from '../../src/webhooks/memory-store.js'
import { eventually } from '../helper.js'
import { quietLog } from '../helpers/quiet-log.js'

t.test('events refused for good fill most of the room: the others are still read and sent', async (t) => {
  const store = new MemoryStore(() => {})
  const sent = new Set<string>()
  const dispatcher = new Dispatcher({
    store,
    // The receiver refuses the poison ones every time; the rest it takes at once.
    send: async event => {
      if (event.id.startsWith('poison')) return { ok: false, reason: 'status 400' }
      sent.add(event.id)
      return { ok: true }
    },
    maxRetryDelayMs: 60_000,
    retryForMs: 3_600_000,
    counted: () => {},
    log: quietLog,
    maxHeld: 40
  })
  t.teardown(() => dispatcher.close())
  dispatcher.start()
  const event = (id: string) => webhookEvent(id, 'message.stored', Date.now(), '{"room":"r"}', 'r')
  await store.add(Array.from({ length: 35 }, (_, i) => event(`poison-${i}`)))
  dispatcher.wake()
  await eventually(() => dispatcher.holding === 35, 2000) // all taken, each failed once, waiting for its retry

  await store.add(Array.from({ length: 20 }, (_, i) => event(`good-${i}`)))
  dispatcher.wake()
  // 5 places left of 40: a small read, allowed because nothing is in flight.
  await eventually(() => sent.size === 20, 3000)
  t.equal(sent.size, 20, 'every good event sent while the refused ones wait for their retries')
  t.equal(dispatcher.holding, 35, 'the refused ones still held')
})
