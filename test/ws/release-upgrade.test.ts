import t from 'tap'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import v8 from 'node:v8'
import vm from 'node:vm'
import WebSocket, { WebSocketServer } from 'ws'
import { releaseUpgrade } from '../../src/ws/release-upgrade.js'
import { connect, listen } from '../helper.js'

// A full collection on demand, without starting the test process with --expose-gc.
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** The ws WebSocket that took a TCP socket (ws keeps it under its own `Symbol('websocket')`). */
function wsOf (tcp: Socket): WebSocket {
  const key = Object.getOwnPropertySymbols(tcp).find(s => s.description === 'websocket')
  return (tcp as unknown as Record<symbol, WebSocket>)[key!]
}

t.test('an open socket no longer holds its upgrade request, and still works', async t => {
  const { app, url } = await listen(t)
  const upgrades: Array<{ request: WeakRef<IncomingMessage>, tcp: Socket & { _httpMessage?: unknown } }> = []
  app.server.on('upgrade', (request: IncomingMessage, tcp: Socket) => {
    upgrades.push({ request: new WeakRef(request), tcp })
  })
  const a = await connect(t, `${url}/ws/general`)
  const b = await connect(t, `${url}/ws/general`)
  t.equal(upgrades.length, 2)
  for (const { tcp } of upgrades) t.equal(tcp._httpMessage, null, 'the ServerResponse is detached from the TCP socket')
  await nextTurn() // WeakRefs made in this job stay alive until it ends
  gc()
  t.same(upgrades.map(u => u.request.deref()), [undefined, undefined], 'the HTTP requests were collected')

  a.send({ type: 'message', room: 'general', data: 'still here' })
  t.match(await b.next('message'), { data: 'still here' })
})

t.test('errors on a released socket go to the one shared listener and no further', async t => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  t.teardown(() => new Promise(resolve => wss.close(resolve)))
  await once(wss, 'listening')
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`)
  t.teardown(() => client.terminate())
  const [server] = await once(wss, 'connection') as [WebSocket]
  await once(client, 'open')
  t.equal(server.listenerCount('error'), 0, 'ws itself adds none')
  server.on('error', () => t.fail('the previous listeners are gone'))
  server.on('error', () => t.fail('all of them'))
  const seen: unknown[] = []
  function onError (this: WebSocket, err: Error) { seen.push([this, err]) }
  releaseUpgrade(server, onError)
  const err = new Error('reset by peer')
  server.emit('error', err)
  t.same(seen, [[server, err]])
  t.same(server.listeners('error'), [onError])
})

t.test('an upgraded socket keeps no idle timer and no per-socket error listener', async t => {
  const { app, url } = await listen(t)
  const upgrades: Socket[] = []
  app.server.on('upgrade', (_request: IncomingMessage, tcp: Socket) => { upgrades.push(tcp) })
  const a = await connect(t, `${url}/ws/general`)
  const b = await connect(t, `${url}/ws/general`)
  for (const tcp of upgrades) {
    const key = Object.getOwnPropertySymbols(tcp).find(s => s.description === 'timeout')
    t.ok(key, 'Node keeps the idle timer under Symbol(timeout)')
    t.equal((tcp as unknown as Record<symbol, unknown>)[key!], null, 'the cleared idle timer is not held')
  }
  t.equal(upgrades.length, 2)
  const [first, second] = upgrades.map(tcp => wsOf(tcp).listeners('error'))
  t.equal(first.length, 1)
  t.equal(first[0], second[0], 'one error listener, shared by every socket')
  // The idle time-out Node would have armed does not come back: the socket still works.
  a.send({ type: 'message', room: 'general', data: 'after release' })
  t.match(await b.next('message'), { data: 'after release' })
})
