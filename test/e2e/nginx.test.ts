/**
 * deploy/nginx.conf in Debian's nginx, in front of three real chat-api processes on one Redis:
 * WebSockets pass through it to every instance, a message crosses instances, `/ready` answers
 * through it, and an instance that is shutting down (503 on upgrades) or killed (connection
 * refused) costs a new client nothing: nginx tries the next instance.
 */
import t from 'tap'
import { Client, connect } from '../helper.js'
import { refusedUpgrade } from '../helpers/refused-upgrade.js'
import { TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { type Instance, startInstances, until } from './helpers/instances.js'
import { siteConfig, startNginx } from './helpers/nginx.js'

async function instanceIdOf (instance: Instance): Promise<string> {
  const res = await fetch(`${instance.http}/ws/stats`)
  return (await res.json() as { instanceId: string }).instanceId
}

t.test('siteConfig puts the test\'s ports into the deploy file and refuses a file it does not know', async t => {
  const site = siteConfig([
    'upstream chat_api {',
    '    # a comment',
    '    server 10.0.0.1:3001 max_fails=1 fail_timeout=3s;',
    '    server 10.0.0.2:3001 max_fails=1 fail_timeout=3s;',
    '}',
    'server {',
    '    listen 80;',
    '}'
  ].join('\n'), 8080, [4001, 4002, 4003])
  t.match(site, /# a comment\n {4}server 127\.0\.0\.1:4001 max_fails=1 fail_timeout=3s;\n {4}server 127\.0\.0\.1:4002 max_fails=1 fail_timeout=3s;\n {4}server 127\.0\.0\.1:4003 max_fails=1 fail_timeout=3s;\n\}/)
  t.notMatch(site, /10\.0\.0/)
  t.match(site, /\n {4}listen 127\.0\.0\.1:8080;\n/)
  t.throws(() => siteConfig('server { listen 80; }', 1, [2]), /no `upstream chat_api/)
  t.throws(() => siteConfig('upstream chat_api {\n    # none\n}\n', 1, [2]), /no `server host:port/)
})

t.test('three instances behind nginx', async t => {
  // A stuck client below holds a shutdown for SHUTDOWN_TIMEOUT_MS / 2: long enough to look at it.
  const instances = await startInstances(t, 3, {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_CHANNEL_PREFIX: uniquePrefix(),
    WS_RATE_LIMIT_PER_SEC: 0,
    SHUTDOWN_TIMEOUT_MS: 20_000
  })
  const proxy = await startNginx(t, instances.map(i => i.port))
  const ids = await Promise.all(instances.map(instanceIdOf))

  t.test('/health and /ready through nginx', async t => {
    const health = await fetch(`${proxy.http}/health`)
    t.equal(health.status, 200)
    t.same(await health.json(), { status: 'ok' })
    const ready = await fetch(`${proxy.http}/ready`)
    t.equal(ready.status, 200)
    t.same(await ready.json(), { status: 'ready' })
  })

  t.test('sockets reach every instance, and a message reaches members on the others', async t => {
    // Round robin over three fresh upstreams: three sequential sockets land on three instances.
    const clients: Client[] = []
    for (let i = 0; i < 3; i++) clients.push(await connect(t, `${proxy.ws}/ws/lobby`))
    const landed = clients.map(c => c.frames[0].instanceId)
    t.same([...new Set(landed)].sort(), [...ids].sort(), 'one socket on each instance')

    const ack = await clients[0].request({ type: 'message', room: 'lobby', data: 'through nginx' })
    t.equal(ack.type, 'ack')
    for (const client of clients) {
      const message = await client.next('message')
      t.equal(message.data, 'through nginx')
      t.equal(message.messageId, ack.messageId)
    }
    await Promise.all(clients.map(c => c.close()))
  })

  t.test('an instance shutting down refuses upgrades with 503 and nginx sends them on', async t => {
    const [draining] = instances
    // A client that never answers the close handshake keeps the instance in its shutdown.
    const stuck = await connect(t, `${draining.ws}/ws/lobby`)
    ;(stuck.ws as any)._socket.pause()
    const exited = draining.signal('SIGTERM')
    await until('the draining instance reports not ready', async () => (await fetch(`${draining.http}/ready`)).status === 503)

    const refusal = await refusedUpgrade(`${draining.ws}/ws/lobby`)
    t.equal(refusal.statusCode, 503, 'a direct upgrade is refused')
    t.equal(refusal.body.error, 'shutting_down')

    // Round robin reaches the draining instance within two attempts, so some of these are refused
    // there first; every one must still open, on another instance.
    const before = proxy.accessLog().length
    const clients: Client[] = []
    for (let i = 0; i < 4; i++) clients.push(await connect(t, `${proxy.ws}/ws/lobby`))
    for (const client of clients) t.not(client.frames[0].instanceId, ids[0], 'not on the draining instance')
    const ready = await fetch(`${proxy.http}/ready`)
    t.equal(ready.status, 200, '/ready through nginx: another instance answers')

    // nginx logs a WebSocket when it closes: `... statuses=503, 101` is an upgrade it retried.
    await Promise.all(clients.map(c => c.close()))
    await until('nginx logged the four upgrades', () => proxy.accessLog().slice(before).filter(l => l.startsWith('GET /api/chat-api/ws/lobby ')).length === 4)
    const upgrades = proxy.accessLog().slice(before).filter(l => l.startsWith('GET /api/chat-api/ws/lobby '))
    t.ok(upgrades.every(l => / 101 /.test(l)), 'every upgrade ended in 101')
    t.ok(upgrades.some(l => /statuses=503, 101$/.test(l)), `an upgrade refused with 503 went to the next instance:\n${upgrades.join('\n')}`)

    stuck.ws.terminate()
    t.equal(await exited, 0, 'the shutdown completes once the stuck client is gone')
    await draining.start()
    t.equal((await fetch(`${draining.http}/ready`)).status, 200)
    ids[0] = await instanceIdOf(draining)
  })

  t.test('a killed instance: nginx sends new sockets elsewhere, and to it again once restarted', async t => {
    const killed = instances[1]
    const onKilled = await connect(t, `${killed.ws}/ws/lobby`)
    t.equal(await killed.stop('SIGKILL'), null, 'killed by the signal')
    t.equal(await onKilled.closed, 1006, 'its sockets drop without a close frame')

    const before = proxy.accessLog().length
    const clients: Client[] = []
    for (let i = 0; i < 4; i++) clients.push(await connect(t, `${proxy.ws}/ws/lobby`))
    for (const client of clients) t.not(client.frames[0].instanceId, ids[1])
    await Promise.all(clients.map(c => c.close()))
    await until('nginx logged the four upgrades', () => proxy.accessLog().slice(before).filter(l => l.startsWith('GET /api/chat-api/ws/lobby ')).length === 4)
    const upgrades = proxy.accessLog().slice(before).filter(l => l.startsWith('GET /api/chat-api/ws/lobby '))
    t.ok(upgrades.some(l => /statuses=502, 101$/.test(l)), `a refused connection went to the next instance:\n${upgrades.join('\n')}`)

    await killed.start()
    const restartedId = await instanceIdOf(killed)
    t.not(restartedId, ids[1], 'a new process, a new instance id')
    // Out of the rotation for fail_timeout (3 s) after its failure, then back in it.
    let back: Client | null = null
    await until('a socket through nginx lands on the restarted instance', async () => {
      const client = await connect(t, `${proxy.ws}/ws/lobby`)
      if (client.frames[0].instanceId === restartedId) back = client
      else await client.close()
      return back !== null
    }, 15_000)
    const sender = await connect(t, `${instances[2].ws}/ws/lobby`)
    await sender.request({ type: 'message', room: 'lobby', data: 'after the restart' })
    t.equal((await (back as unknown as Client).next('message')).data, 'after the restart')
  })
})
