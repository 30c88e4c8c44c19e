/**
 * Redis with credentials in every mode (contract "Secure by default"): REDIS_PASSWORD reaches a
 * Redis Cluster whose nodes have `requirepass`, and a Sentinel set whose data nodes and sentinels
 * each have one (REDIS_PASSWORD, REDIS_SENTINEL_PASSWORD). Without them the start fails, naming
 * the variable; with them two instances fan a room's messages out through that Redis.
 */
import t, { type Test } from 'tap'
import { buildApp, type ConfigInput } from '../../src/app.js'
import { connect, listen } from '../helper.js'
import { uniquePrefix } from '../redis-helper.js'
import { RedisClusterSet, SentinelSet } from '../redis-topologies.js'

const PASSWORD = 'data-nodes-password-0123456789'
const SENTINEL_PASSWORD = 'sentinels-password-0123456789'

/** Two instances on `config`: a message sent on one reaches a member on the other. */
async function fanOut (t: Test, config: ConfigInput): Promise<void> {
  const common = { ...config, REDIS_CHANNEL_PREFIX: uniquePrefix(), WS_RATE_LIMIT_PER_SEC: 0 }
  const a = await listen(t, common)
  const b = await listen(t, common)
  const onA = await connect(t, `${a.url}/ws/r`)
  const onB = await connect(t, `${b.url}/ws/r`)
  const ack = await onA.request({ type: 'message', room: 'r', data: 'through an authenticated Redis' })
  t.match(ack, { type: 'ack', offset: 1 })
  t.match(await onB.next('message'), { data: 'through an authenticated Redis', offset: 1 })
  t.equal((await a.app.inject('/api/chat-api/ready')).statusCode, 200)
}

/** The start refused: Redis says NOAUTH or WRONGPASS, and the message names the mode's variable. */
async function refused (t: Test, config: ConfigInput, variable: string): Promise<void> {
  // buildApp boots the plugins: an unreachable (or refusing) Redis fails it, naming the variable.
  await t.rejects(buildApp({ config: { ...config, REDIS_CHANNEL_PREFIX: uniquePrefix() } }), { message: new RegExp(variable) })
}

t.test('a Redis Cluster with requirepass', async t => {
  const cluster = await RedisClusterSet.start(t, { password: PASSWORD })
  const config = { REDIS_CLUSTER_NODES: cluster.nodes }
  await refused(t, config, 'REDIS_CLUSTER_NODES')
  await fanOut(t, { ...config, REDIS_PASSWORD: PASSWORD })
})

t.test('a Sentinel set with requirepass on the data nodes and on the sentinels', async t => {
  const sentinel = await SentinelSet.start(t, 'secured', { password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD })
  const config = { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: 'secured' }
  await refused(t, { ...config, REDIS_PASSWORD: PASSWORD }, 'REDIS_SENTINELS')
  await fanOut(t, { ...config, REDIS_PASSWORD: PASSWORD, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD })
})

t.test('credentials beside REDIS_URL refuse to start: the URL carries its own', async t => {
  for (const extra of [{ REDIS_PASSWORD: 'x' }, { REDIS_TLS: 'true' }, { REDIS_USERNAME: 'u' }]) {
    await t.rejects(buildApp({ config: { REDIS_URL: 'redis://127.0.0.1:1', ...extra } }), { message: /put the credentials in the URL/ })
  }
  await t.rejects(buildApp({ config: { REDIS_SENTINEL_PASSWORD: 'x' } }), { message: /REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS/ })
})
