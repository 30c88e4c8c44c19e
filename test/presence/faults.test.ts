/**
 * Presence while Redis is down and after it restarts without its data: requests answer
 * `unavailable`; once Redis is back each instance re-asserts its members, so the lists converge
 * (changes made during the outage included) within a refresh period, and events resume.
 */
import { test } from 'tap'
import { connect, eventually, PREFIX, type Client } from '../helper.js'
import { clusterApp, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'
import { RETRY_MAX_DELAY_MS } from '../../src/redis/connect.js'

const TTL_SEC = 4
/**
 * From Redis's return: ioredis tries again within its longest retry delay (plus up to 50 ms of
 * jitter), and from the link's return presence is right again within PRESENCE_TTL_SEC, the
 * contract's bound for whatever it missed.
 */
const CONVERGE_MS = RETRY_MAX_DELAY_MS + 50 + TTL_SEC * 1000
const idOf = (client: Client) => client.frames[0].connectionId as string

test('Redis restarted without data: unavailable meanwhile, lists converge, events resume', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const prefix = uniquePrefix()
  // History off: with it, a history lost in the restart closes its room's members with 4010
  // (they resume on new connections), which is history's guarantee, not presence's.
  const config = { PRESENCE_TTL_SEC: TTL_SEC, HISTORY_SIZE: 0 }
  const a = await clusterApp(t, redis.url, prefix, config)
  const b = await clusterApp(t, redis.url, prefix, config)
  const stays = await connect(t, `${a.url}/ws/r`)
  const goes = await connect(t, `${b.url}/ws/r`)
  await stays.next('member_joined')
  const listed = async () => {
    const res = await a.app.inject(`${PREFIX}/rooms/r/presence`)
    return res.statusCode === 200 ? res.json().members.map((m: { connectionId: string }) => m.connectionId).sort() : res.statusCode
  }
  t.same(await listed(), [idOf(stays), idOf(goes)].sort())

  await redis.stop()
  await eventually(async () => (await a.app.inject(`${PREFIX}/ws/stats`)).json().redis === 'reconnecting')
  t.match(await stays.request({ type: 'presence', room: 'r' }), { type: 'error', code: 'unavailable' }, 'the frame')
  const down = await a.app.inject(`${PREFIX}/rooms/r/presence`)
  t.same([down.statusCode, down.json().error], [503, 'unavailable'], 'the route')
  t.equal((await a.app.inject(`${PREFIX}/cluster`)).statusCode, 503, '/cluster')

  // Changes while Redis is down: one member leaves, one joins.
  await goes.close()
  const comes = await connect(t, `${b.url}/ws/r`)

  await redis.start()
  const restartedAt = Date.now()
  await eventually(async () => JSON.stringify(await listed()) === JSON.stringify([idOf(stays), idOf(comes)].sort()), CONVERGE_MS + 5000)
  t.ok(Date.now() - restartedAt <= CONVERGE_MS, `members listed again ${Date.now() - restartedAt} ms after the restart (bound ${CONVERGE_MS} ms)`)
  // Events sent while an instance's subscriber is still reconnecting are lost (at most once), so
  // only those after both are back are checked; the lists converged whatever the order.
  await eventually(async () => (await a.app.inject(`${PREFIX}/ws/stats`)).json().redis === 'connected', 10_000)
  const later = await connect(t, `${b.url}/ws/r`)
  t.match(await stays.next(f => f.type === 'member_joined' && f.member.connectionId === idOf(later)), { room: 'r' }, 'events resume')
  await later.close()
  t.match(await stays.next('member_left'), { member: { connectionId: idOf(later) } })
  t.equal((await a.app.inject(`${PREFIX}/cluster`)).json().instances.length, 2, '/cluster lists both again')
})
