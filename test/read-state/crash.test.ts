/**
 * Status after a crash, with real processes: an instance holding a user's sockets is killed with
 * SIGKILL (nothing closed, nothing removed from Redis). Within PRESENCE_TTL_SEC of the kill the
 * user is offline, with `lastSeen` about the time of the kill (its last lease renewal, at most one
 * heartbeat before), while a user with a socket on a surviving instance stays online.
 * The bounds are the contract's, from the configuration, not what a quiet machine measured.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect } from '../helper.js'
import { SECRET, bearer, sign } from '../helpers/auth-tokens.js'
import { TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { startInstances } from '../e2e/helpers/instances.js'

const TTL_SEC = 4
const TTL_MS = TTL_SEC * 1000

test('SIGKILL of an instance: its users go offline within PRESENCE_TTL_SEC, lastSeen about the kill', async (t) => {
  const env = { REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: uniquePrefix(), PRESENCE_TTL_SEC: TTL_SEC }
  const [survivor, doomed] = await startInstances(t, 2, { ...env, AUTH_ENABLED: true, JWT_SECRET: SECRET, WS_RATE_LIMIT_PER_SEC: 0, HTTP_RATE_LIMIT_PER_MIN: 0 })
  const open = async (base: string, user: string) => {
    const client = await connect(t, `${base}/ws`, bearer(sign({ sub: user })))
    client.ws.on('error', () => {})
    return client
  }
  const status = async (user: string): Promise<any> => (await fetch(`${survivor.http}/users/${user}/status`, {
    headers: bearer(sign({ sub: 'observer' })), signal: AbortSignal.timeout(5000)
  })).json()

  await open(doomed.ws, 'victim')
  await open(doomed.ws, 'victim')
  await open(doomed.ws, 'both')
  await open(survivor.ws, 'both')
  t.match(await status('victim'), { online: true, connections: 2, lastSeen: null })
  t.match(await status('both'), { online: true, connections: 2 })
  // At least one renewal after the connects, so the leases are not the connects' own writes.
  await sleep(TTL_MS / 5 + 100)

  const killedAt = Date.now()
  await doomed.stop('SIGKILL')
  let victim: any
  while (Date.now() - killedAt < TTL_MS + 5000) {
    victim = await status('victim')
    if (!victim.online) break
    await sleep(50)
  }
  const after = Date.now() - killedAt
  t.equal(victim.online, false, `offline (after ${after} ms)`)
  t.ok(after <= TTL_MS, `within PRESENCE_TTL_SEC (${TTL_SEC} s)`)
  t.equal(victim.connections, 0)
  t.ok(victim.lastSeen >= killedAt - TTL_MS && victim.lastSeen <= killedAt, `lastSeen ${victim.lastSeen - killedAt} ms from the kill`)
  t.match(await status('both'), { online: true, connections: 1 }, 'a user with a socket elsewhere stays online')
  // Read again: the answer is stored, not recomputed from leases that are gone.
  t.equal((await status('victim')).lastSeen, victim.lastSeen)
})
