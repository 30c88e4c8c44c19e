/**
 * Read receipts leave Redis in cursor order (src/read-state/redis-receipts.ts): two instances
 * moving one user's cursor get their replies in any order, and a receipt sent after a later one of
 * the same user and epoch must not reach the room. Real Redis, a real subscriber on the room's
 * channel; then the same through two apps, with racing `read` frames, several rounds.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { redisLayout } from '../../src/redis/layout.js'
import { openMemberPayload } from '../../src/redis/member-payload.js'
import { RedisReceipts } from '../../src/read-state/redis-receipts.js'
import { eventually } from '../helper.js'
import { AUTH_CONFIG } from '../helpers/auth-tokens.js'
import { quietLog } from '../helpers/quiet-log.js'
import { adminClient, clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { randomName, sendMany, userSocket } from './helpers.js'

t.test('a receipt behind one already published (same user, same epoch) is not published', async t => {
  const layout = redisLayout(uniquePrefix())
  const room = randomName('gate')
  const client = adminClient(t)
  const subscriber = new Redis(TEST_REDIS_URL)
  t.teardown(() => subscriber.disconnect())
  const heard: any[] = []
  subscriber.on('messageBuffer', (_channel: Buffer, payload: Buffer) => {
    const event = openMemberPayload(payload)
    heard.push(event === null ? 'malformed' : { except: event.except, ...JSON.parse(event.frame.toString()) })
  })
  await subscriber.subscribe(layout.room(room))
  const receipts = new RedisReceipts({ client, layout, log: quietLog })

  const sent = []
  for (const [user, epoch, offset] of [
    ['ann', 'e1', 60],
    ['ann', 'e1', 53], // a reply that came back late
    ['ann', 'e1', 60], // the same again
    ['bob', 'e1', 10], // another user has its own order
    ['ann', 'e1', 61],
    ['ann', 'e2', 1], // a new epoch: its offsets start again
    ['ann', 'e2', 2],
    ['marker', 'e2', 1] // sent last, heard last: nothing sent before it is still on its way
  ] as const) sent.push(await receipts.send(room, user, { epoch, offset }))
  t.same(sent, [true, false, false, true, true, true, true, true], 'what each call answered')
  await eventually(() => heard.some(h => h.user === 'marker'))

  t.same(heard.map(h => `${h.user as string}:${h.epoch as string}/${h.offset as number}`),
    ['ann:e1/60', 'bob:e1/10', 'ann:e1/61', 'ann:e2/1', 'ann:e2/2', 'marker:e2/1'])
  t.match(heard[0], { type: 'read_receipt', room, except: '*' }, 'a member payload that spares no connection')
  t.ok(await client.ttl(layout.readReceipts(room)) > 0, 'the gate expires')
})

t.test('racing reads on two instances: every member hears one user\'s receipts in cursor order', async t => {
  const prefix = uniquePrefix()
  const config = { ...AUTH_CONFIG, HISTORY_SIZE: 1000 }
  const one = await clusterApp(t, TEST_REDIS_URL, prefix, config)
  const two = await clusterApp(t, TEST_REDIS_URL, prefix, config)
  const room = randomName('race')
  const near = await userSocket(t, one.url, 'near', [room])
  const far = await userSocket(t, two.url, 'far', [room])
  const first = await userSocket(t, one.url, 'racer', [room])
  const second = await userSocket(t, two.url, 'racer', [room])
  // Rounds: each moves the cursor through the next 40 offsets from both instances at once.
  const rounds = 5
  for (let round = 0; round < rounds; round++) {
    await sendMany(near, room, 40)
    const offsets = Array.from({ length: 40 }, (_, i) => round * 40 + i + 1)
    await Promise.all([
      ...offsets.map(offset => first.request({ type: 'read', room, offset })),
      ...offsets.reverse().map(offset => second.request({ type: 'read', room, offset }))
    ])
  }
  const last = rounds * 40
  for (const [name, watcher] of [['near', near], ['far', far], ['racer', first], ['racer', second]] as const) {
    await watcher.next(f => f.type === 'read_receipt' && f.user === 'racer' && f.offset === last)
    const heard = watcher.frames.filter(f => f.type === 'read_receipt' && f.user === 'racer').map(f => f.offset as number)
    t.ok(heard.every((o, i) => i === 0 || o > heard[i - 1]), `${name} hears them strictly increasing: ${heard.join(',')}`)
  }
})
