/**
 * Presence as leases, against a real Redis: a room's keys expire once nobody renews them, and a
 * lease nobody renews (as a killed instance's) leaves the list when it expires and is announced
 * by exactly one `member_left`, however many live instances clean up; the metrics say so.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, eventually, PREFIX, type Client } from '../helper.js'
import { scrape, valueOf } from '../helpers/prometheus.js'
import { adminClient, clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

const idOf = (client: Client) => client.frames[0].connectionId as string

test('a room\'s presence keys and the instance list expire once nobody renews them', async (t) => {
  const TTL_SEC = 5
  const prefix = uniquePrefix()
  const admin = adminClient(t)
  const { url } = await clusterApp(t, TEST_REDIS_URL, prefix, { PRESENCE_TTL_SEC: TTL_SEC })
  await connect(t, `${url}/ws/r`)
  await eventually(async () => await admin.exists(`${prefix}:{r}:presence`, `${prefix}:{r}:leases`, `${prefix}:instances`) === 3)
  for (const key of [`${prefix}:{r}:presence`, `${prefix}:{r}:leases`, `${prefix}:instances`]) {
    const ttl = await admin.pttl(key)
    t.ok(ttl > 0 && ttl <= 2 * TTL_SEC * 1000, `${key.slice(prefix.length)} expires unless renewed (${ttl} ms left)`)
  }
})

test('a lease nobody renews: out of the list when it expires, one member_left in all, counted', async (t) => {
  // Leases last 3/5 of the TTL: at 4 s a live instance's beat outlasts a 2 s stall of a loaded machine.
  const TTL_SEC = 4
  const prefix = uniquePrefix()
  const admin = adminClient(t)
  const a = await clusterApp(t, TEST_REDIS_URL, prefix, { PRESENCE_TTL_SEC: TTL_SEC })
  const b = await clusterApp(t, TEST_REDIS_URL, prefix, { PRESENCE_TTL_SEC: TTL_SEC })
  const onA = await connect(t, `${a.url}/ws/r`)
  const onB = await connect(t, `${b.url}/ws/r`)
  await onA.next('member_joined')
  const listed = async () => (await a.app.inject(`${PREFIX}/rooms/r/presence`)).json().members.map((m: { connectionId: string }) => m.connectionId).sort()

  // What a killed instance leaves behind: a member whose lease nobody will renew, expiring soon.
  const [seconds, micros] = await admin.time()
  const expiredAt = Date.now() + 2000
  const ghost = { connectionId: 'ghost-connection', user: null }
  await admin.hset(`${prefix}:{r}:presence`, ghost.connectionId, JSON.stringify(ghost))
  await admin.zadd(`${prefix}:{r}:leases`, Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + 2000, ghost.connectionId)
  t.same(await listed(), [ghost.connectionId, idOf(onA), idOf(onB)].sort(), 'listed while its lease runs')

  for (const client of [onA, onB]) t.same((await client.next('member_left', 10_000)).member, ghost, 'member_left for it')
  t.ok(Date.now() >= expiredAt - 50, 'not before its expiry')
  t.ok(Date.now() - expiredAt <= TTL_SEC * 1000, `announced within PRESENCE_TTL_SEC of its expiry (${Date.now() - expiredAt} ms)`)
  t.same(await listed(), [idOf(onA), idOf(onB)].sort(), 'out of the list')

  // Both instances renew the room every period: past a few more, neither announced it again. A
  // join after that is the marker that their events have arrived.
  await sleep(TTL_SEC * 1000)
  const marker = await connect(t, `${b.url}/ws/r`)
  for (const client of [onA, onB]) {
    await client.next(f => f.type === 'member_joined' && f.member.connectionId === idOf(marker))
    t.equal(client.frames.filter(f => f.type === 'member_left').length, 1, 'exactly one member_left')
  }
  const [onAMetrics, onBMetrics] = [await scrape(a.app), await scrape(b.app)]
  t.equal(valueOf(onAMetrics, 'chat_api_presence_expired_total') + valueOf(onBMetrics, 'chat_api_presence_expired_total'), 1,
    'one expired lease removed, by one of the two')
  t.equal(valueOf(onAMetrics, 'chat_api_presence_members'), 1)
  t.equal(valueOf(onBMetrics, 'chat_api_presence_members'), 2)
  t.equal(valueOf(onAMetrics, 'chat_api_presence_reasserted_total'), 0, 'nothing of a live instance went missing')
})
