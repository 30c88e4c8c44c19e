import t from 'tap'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import v8 from 'node:v8'
import vm from 'node:vm'
import WebSocket, { WebSocketServer } from 'ws'
import type { FastifyBaseLogger } from 'fastify'
import { releaseUpgrade } from '../../src/ws/release-upgrade.js'
import { connect, listen } from '../helper.js'

// A full collection on demand, without starting the test process with --expose-gc.
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

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

t.test('errors on a released socket are logged at debug and go no further', async t => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  t.teardown(() => new Promise(resolve => wss.close(resolve)))
  await once(wss, 'listening')
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`)
  t.teardown(() => client.terminate())
  const [server] = await once(wss, 'connection') as [WebSocket]
  await once(client, 'open')
  t.equal(server.listenerCount('error'), 0, 'ws itself adds none')
  server.on('error', () => t.fail('the previous listeners are gone'))
  const logged: unknown[] = []
  releaseUpgrade(server, { debug: (obj: unknown, msg: string) => logged.push([obj, msg]) } as unknown as FastifyBaseLogger)
  const err = new Error('reset by peer')
  server.emit('error', err)
  t.same(logged, [[{ err }, 'websocket error']])
  t.equal(server.listenerCount('error'), 1)
})
