/**
 * GET /metrics: every metric of the contract, counters that move with traffic on two instances,
 * the lag histogram, the default process and Node metrics, and no label that names a room, a
 * user or a connection.
 */
import t from 'tap'
import WebSocket from 'ws'
import { once } from 'node:events'
import { build, connect, eventually, listen, PREFIX } from '../helper.js'
import { parseMetrics, scrape, valueOf, type Sample } from '../helpers/prometheus.js'
import { adminClient, clientsNamed, clusterApp, statsOf, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

const API_KEY = 'metrics-test-api-key-0123456789abcdef'
const ROOM = 'secret-room-name-42'

t.test('counters move with traffic on both instances; no label holds a room, user or connection id', async t => {
  const prefix = uniquePrefix()
  const a = await clusterApp(t, TEST_REDIS_URL, prefix, { API_KEY })
  const b = await clusterApp(t, TEST_REDIS_URL, prefix, { API_KEY })
  const res = await a.app.inject(`${PREFIX}/metrics`)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const before = parseMetrics(res.body)
  t.equal(valueOf(before, 'chat_api_deliveries_total'), 0)
  t.equal(valueOf(before, 'chat_api_redis_up'), 1, 'redis_up is 1 while connected')
  t.equal(valueOf(before, 'chat_api_connections'), 0)

  const sender = await connect(t, `${a.url}/ws/${ROOM}`)
  const peerA = await connect(t, `${a.url}/ws/${ROOM}`)
  const peerB1 = await connect(t, `${b.url}/ws/${ROOM}`)
  const peerB2 = await connect(t, `${b.url}/ws/${ROOM}`)
  for (let i = 0; i < 3; i++) t.equal((await sender.request({ type: 'message', room: ROOM, data: i })).type, 'ack')
  t.equal((await sender.request({ type: 'broadcast', data: 'all' })).type, 'ack')
  t.equal((await a.app.inject({ method: 'POST', url: `${PREFIX}/rooms/${ROOM}/messages`, headers: { 'x-api-key': API_KEY }, payload: { data: 'api' } })).statusCode, 201)
  t.match(await sender.request({ type: 'leave', room: 'never-joined' }), { code: 'not_in_room' })
  sender.send('{not json')
  t.equal((await sender.next('error')).code, 'bad_json')
  for (const peer of [peerB1, peerB2]) {
    for (let i = 0; i < 4; i++) await peer.next('message')
    await peer.next('broadcast')
  }
  // A binary frame makes A close that socket with 1003.
  const binary = new WebSocket(`${a.url}/ws`)
  await once(binary, 'open')
  binary.send(Buffer.from([1, 2, 3]))
  t.equal((await once(binary, 'close'))[0], 1003)

  const afterA = await scrape(a.app)
  const afterB = await scrape(b.app)
  t.equal(valueOf(afterA, 'chat_api_frames_received_total', { type: 'message' }), 3)
  t.equal(valueOf(afterA, 'chat_api_frames_received_total', { type: 'broadcast' }), 1)
  t.equal(valueOf(afterA, 'chat_api_frames_received_total', { type: 'invalid' }), 1, 'the unparsable frame')
  t.equal(valueOf(afterA, 'chat_api_messages_published_total', { kind: 'room' }), 3)
  t.equal(valueOf(afterA, 'chat_api_messages_published_total', { kind: 'broadcast' }), 1)
  t.equal(valueOf(afterA, 'chat_api_messages_published_total', { kind: 'api' }), 1)
  t.equal(valueOf(afterB, 'chat_api_messages_published_total', { kind: 'room' }), 0, 'B published nothing itself')
  t.equal(valueOf(afterA, 'chat_api_errors_total', { code: 'not_in_room' }), 1)
  t.equal(valueOf(afterA, 'chat_api_errors_total', { code: 'bad_json' }), 1)
  t.equal(valueOf(afterA, 'chat_api_closes_total', { code: '1003' }), 1)
  // On each instance: 4 room messages to its 2 members, and the broadcast to its 2 sockets (the
  // binary client connected after it).
  t.equal(valueOf(afterB, 'chat_api_deliveries_total'), 4 * 2 + 2)
  t.equal(valueOf(afterA, 'chat_api_deliveries_total'), 4 * 2 + 2)
  t.equal(valueOf(afterA, 'chat_api_connections'), 2)
  t.equal(valueOf(afterB, 'chat_api_rooms'), 1)
  for (const samples of [afterA, afterB]) {
    t.equal(valueOf(samples, 'chat_api_delivery_lag_seconds_count'), 5, 'one lag observation per message, not per recipient')
    t.ok(samples.some(s => s.name === 'chat_api_delivery_lag_seconds_bucket' && s.labels.le === '0.005'), 'histogram buckets')
    t.ok(valueOf(samples, 'chat_api_delivery_lag_seconds_bucket', { le: '+Inf' }) === 5)
  }
  for (const name of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'chat_api_redis_reconnects_total']) {
    t.ok(afterA.some(s => s.name === name), `${name} is exported`)
  }

  const ids = [sender, peerA, peerB1, peerB2].map(c => c.frames[0].connectionId as string)
  const forbidden = [ROOM, 'never-joined', ...ids]
  const leaks = (samples: Sample[]) => samples.filter(s => Object.values(s.labels).some(v => forbidden.some(f => v.includes(f))))
  t.same([...leaks(afterA), ...leaks(afterB)], [], 'no label holds a room name or a connection id')
  const labelNames = new Set([...afterA, ...afterB].filter(s => s.name.startsWith('chat_api_')).flatMap(s => Object.keys(s.labels)))
  t.same([...labelNames].sort(), ['code', 'kind', 'le', 'type'], 'the only labels of our metrics')
})

t.test('a lost Redis subscriber: redis_up drops to 0 and reconnects_total counts the return', async t => {
  const prefix = uniquePrefix()
  const admin = adminClient(t)
  const { app } = await clusterApp(t, TEST_REDIS_URL, prefix)
  const { instanceId } = await statsOf(app)
  const [sub] = await clientsNamed(admin, `${instanceId}:sub`)
  t.equal(valueOf(await scrape(app), 'chat_api_redis_reconnects_total'), 0)
  await admin.call('CLIENT', 'KILL', 'ID', sub.id)
  await eventually(async () => valueOf(await scrape(app), 'chat_api_redis_reconnects_total') === 1, 5000)
  t.equal(valueOf(await scrape(app), 'chat_api_redis_up'), 1, 'up again')
})

t.test('without Redis there is no redis_up; two apps in one process keep their own counts', async t => {
  const one = await build(t, { API_KEY })
  const two = await build(t, { API_KEY })
  await one.inject({ method: 'POST', url: `${PREFIX}/broadcast`, headers: { 'x-api-key': API_KEY }, payload: { data: 1 } })
  const samples = await scrape(one)
  t.notOk(samples.some(s => s.name === 'chat_api_redis_up'))
  t.equal(valueOf(samples, 'chat_api_messages_published_total', { kind: 'api' }), 1)
  t.equal(valueOf(await scrape(two), 'chat_api_messages_published_total', { kind: 'api' }), 0)
})

t.test('METRICS_ENABLED=false: GET /metrics is 404', async t => {
  const app = await build(t, { METRICS_ENABLED: false })
  const res = await app.inject(`${PREFIX}/metrics`)
  t.equal(res.statusCode, 404)
  t.equal(res.json().error, 'not_found')
})

t.test('a replay on a join with since counts as deliveries, but not in the lag histogram', async t => {
  const { app, url } = await listen(t)
  const sender = await connect(t, `${url}/ws/r`)
  const acks = []
  for (let i = 0; i < 3; i++) acks.push(await sender.request({ type: 'message', room: 'r', data: i }))
  for (let i = 0; i < 3; i++) await sender.next('message')
  const before = await scrape(app)
  t.equal(valueOf(before, 'chat_api_deliveries_total'), 3)

  const back = await connect(t, `${url}/ws`)
  t.match(await back.request({ type: 'join', room: 'r', since: { offset: 1, epoch: acks[0].epoch } }), { recovered: true })
  t.equal(back.frames.filter(f => f.type === 'message').length, 2)
  const after = await scrape(app)
  t.equal(valueOf(after, 'chat_api_deliveries_total'), 3 + 2, 'the two replayed frames')
  t.equal(valueOf(after, 'chat_api_delivery_lag_seconds_count'), valueOf(before, 'chat_api_delivery_lag_seconds_count'), 'old messages: no lag observed')
})
