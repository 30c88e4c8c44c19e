/**
 * The crash case with real processes: a third instance with members is killed with SIGKILL (no
 * shutdown, nothing removed from Redis). Within PRESENCE_TTL_SEC its connections leave every
 * presence list and `/cluster`, and each remaining member gets exactly one `member_left` per lost
 * connection and room, though two live instances race to clean up.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, type Client } from '../helper.js'
import { TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { startInstances } from '../e2e/helpers/instances.js'

const TTL_SEC = 3

/** Any JSON body, for the assertions to look into. */
const getJson = async (url: string): Promise<any> => (await fetch(url)).json()
const leftOf = (client: Client) => client.frames.filter(f => f.type === 'member_left').map(f => `${f.room} ${f.member.connectionId}`).sort()
const idOf = (client: Client) => client.frames[0].connectionId as string

test('SIGKILL of an instance with members: lists and /cluster converge within the TTL, one member_left per lost connection', async (t) => {
  const [one, two, doomed] = await startInstances(t, 3, {
    REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: uniquePrefix(), PRESENCE_TTL_SEC: TTL_SEC, WS_RATE_LIMIT_PER_SEC: 0
  })
  const a = await connect(t, `${one.ws}/ws/r1?room=r2`)
  const b = await connect(t, `${two.ws}/ws/r1`)
  const lost = [await connect(t, `${doomed.ws}/ws/r1?room=r2`), await connect(t, `${doomed.ws}/ws/r1`)]
  for (const client of lost) client.ws.on('error', () => {})
  const presenceOf = async (room: string) => getJson(`${one.http}/rooms/${room}/presence`)
  const instanceIds = async () => ((await getJson(`${two.http}/cluster`)).instances as Array<{ instanceId: string }>)
    .map(i => i.instanceId).sort()
  // Everyone is listed, and the three instances have beaten at least once.
  const deadline = Date.now() + 10_000
  while ((await presenceOf('r1')).count !== 4 || (await instanceIds()).length !== 3) {
    if (Date.now() > deadline) throw new Error('the cluster did not settle')
    await sleep(50)
  }
  t.equal((await presenceOf('r2')).count, 2)

  const killedAt = Date.now()
  await doomed.stop('SIGKILL')
  let convergedAfter = -1
  while (Date.now() - killedAt < TTL_SEC * 1000 + 5000) {
    const [r1, r2, ids] = await Promise.all([presenceOf('r1'), presenceOf('r2'), instanceIds()])
    if (r1.count === 2 && r2.count === 1 && ids.length === 2) {
      convergedAfter = Date.now() - killedAt
      break
    }
    await sleep(50)
  }
  t.ok(convergedAfter >= 0, `lists and /cluster converged (after ${convergedAfter} ms)`)
  t.ok(convergedAfter <= TTL_SEC * 1000, `within PRESENCE_TTL_SEC (${TTL_SEC} s)`)
  t.same((await presenceOf('r1')).members.map((m: { connectionId: string }) => m.connectionId).sort(), [idOf(a), idOf(b)].sort())

  // Past another TTL: a second cleaner, or a late one, would have sent its events by now.
  await sleep(TTL_SEC * 1000)
  const [c1, c2] = lost.map(idOf)
  t.same(leftOf(a), [`r1 ${c1}`, `r1 ${c2}`, `r2 ${c1}`].sort(), 'a member of both rooms: one member_left per lost connection and room')
  t.same(leftOf(b), [`r1 ${c1}`, `r1 ${c2}`].sort(), 'a member of one room: one per lost connection of that room')
  t.same((await instanceIds()).length, 2)
})
