/**
 * A hook that times out, answers non-2xx or malformed: HOOK_FAILURE=closed refuses (`unavailable`,
 * 503 at the upgrade), `open` allows. A hook that hangs for one room holds neither another room
 * nor another sender.
 */
import t, { type Test } from 'tap'
import { connect, listen } from '../helper.js'
import { refusedUpgrade } from '../helpers/refused-upgrade.js'
import { hookSecret, hookServer, type HookHandler } from '../helpers/hook-server.js'

const TIMEOUT_MS = 300

async function setUp (t: Test, handler: HookHandler, config: Record<string, unknown>) {
  const hooks = await hookServer(t, handler)
  const server = await listen(t, { HOOK_URL: hooks.url, HOOK_SECRET: hookSecret().secret, WS_RATE_LIMIT_PER_SEC: 0, ...config })
  return { ...server, hooks }
}

/** Hangs on data "hang", answers 500 on "error", and malformed JSON on "malformed". */
const broken: HookHandler = ({ hook, body }) => {
  if (hook !== 'publish') return { body: { allow: true } }
  if (body.data === 'hang') return 'hang'
  if (body.data === 'error') return { status: 500, body: { allow: true } }
  if (body.data === 'malformed') return { body: { allow: 'yes' } }
  if (body.data === 'not json') return { raw: 'allow' }
  return { body: { allow: true } }
}

t.test('closed: a timeout, a 500 and a malformed answer refuse with unavailable', async t => {
  const { url, http } = await setUp(t, broken, { HOOK_TIMEOUT_MS: TIMEOUT_MS, HOOK_EVENTS: 'publish' })
  const alice = await connect(t, `${url}/ws/r`)
  const started = performance.now()
  const timedOut = await alice.request({ type: 'message', room: 'r', data: 'hang' })
  t.match(timedOut, { type: 'error', code: 'unavailable' })
  t.ok(performance.now() - started >= TIMEOUT_MS - 5, 'refused once HOOK_TIMEOUT_MS passed, not before')
  for (const data of ['error', 'malformed', 'not json']) {
    t.match(await alice.request({ type: 'message', room: 'r', data }), { type: 'error', code: 'unavailable' }, data)
  }
  const ack = await alice.request({ type: 'message', room: 'r', data: 'fine' })
  t.match(ack, { type: 'ack', offset: 1 }, 'nothing refused used an offset')
  const metrics = await (await fetch(`${http}/metrics`)).text()
  t.match(metrics, /chat_api_hook_failures_total\{hook="publish"\} 4\b/)
  t.match(metrics, /chat_api_hook_seconds_count\{hook="publish"\} 5\b/)
})

t.test('closed: a connect hook that times out is 503 unavailable before the upgrade', async t => {
  const { url } = await setUp(t, ({ hook }) => hook === 'connect' ? 'hang' : { body: { allow: true } }, { HOOK_TIMEOUT_MS: TIMEOUT_MS })
  const refusal = await refusedUpgrade(`${url}/ws`)
  t.equal(refusal.statusCode, 503)
  t.equal(refusal.body.error, 'unavailable')
})

t.test('closed: a join hook that fails answers the frame unavailable, and the URL room 503', async t => {
  const { url } = await setUp(t, ({ hook, body }) => hook === 'join' && body.room === 'down' ? { status: 502 } : { body: { allow: true } }, { HOOK_TIMEOUT_MS: TIMEOUT_MS })
  const alice = await connect(t, `${url}/ws`)
  t.match(await alice.request({ type: 'join', room: 'down' }), { type: 'error', code: 'unavailable' })
  t.equal((await refusedUpgrade(`${url}/ws/down`)).statusCode, 503)
})

t.test('open: the same failures allow', async t => {
  const { url } = await setUp(t, (call) => call.hook === 'publish' ? broken(call) : 'hang', { HOOK_TIMEOUT_MS: TIMEOUT_MS, HOOK_FAILURE: 'open' })
  const alice = await connect(t, `${url}/ws/r`) // the connect and join hooks hang: allowed after the timeout
  const bob = await connect(t, `${url}/ws/r`)
  for (const data of ['hang', 'error', 'malformed']) {
    t.match(await alice.request({ type: 'message', room: 'r', data }), { type: 'ack' }, data)
  }
  await bob.next(f => f.type === 'message' && f.data === 'malformed')
  t.same(bob.frames.filter(f => f.type === 'message').map(f => f.data), ['hang', 'error', 'malformed'])
})

t.test('a hook that never answers for room A holds neither room B nor another sender in A', async t => {
  const BURST = 300
  let release: () => void = () => {}
  const released = new Promise<void>(resolve => { release = resolve })
  // A deadline far beyond the test: only the release ends A's wait.
  const { url } = await setUp(t, async ({ hook, body }) => {
    if (hook === 'publish' && body.data === 'stuck') await released
    return { body: { allow: true } }
  }, { HOOK_TIMEOUT_MS: 120_000, HOOK_EVENTS: 'publish' })
  const sender = await connect(t, `${url}/ws/a?room=b`)
  const other = await connect(t, `${url}/ws/a`)
  const watcher = await connect(t, `${url}/ws/b?room=a`)

  sender.send({ type: 'message', room: 'a', data: 'stuck' })
  sender.send({ type: 'message', room: 'a', data: 'after stuck' })
  for (let i = 0; i < BURST; i++) sender.send({ type: 'message', room: 'b', data: i })
  other.send({ type: 'message', room: 'a', data: 'from another socket' })

  // All of B, in order, and the other sender's A message, while A's first message still waits.
  await watcher.next(f => f.type === 'message' && f.room === 'b' && f.data === BURST - 1)
  await watcher.next(f => f.type === 'message' && f.data === 'from another socket')
  t.same(watcher.frames.filter(f => f.type === 'message' && f.room === 'b').map(f => f.data), [...Array(BURST).keys()])
  t.notOk(watcher.frames.some(f => f.data === 'stuck' || f.data === 'after stuck'), 'A\'s lane of the sender still waits')

  // Released, A's two messages follow in the order they were sent.
  release()
  await watcher.next(f => f.data === 'after stuck')
  const inA = watcher.frames.filter(f => f.type === 'message' && f.room === 'a').map(f => f.data)
  t.same(inA, ['from another socket', 'stuck', 'after stuck'])
})
