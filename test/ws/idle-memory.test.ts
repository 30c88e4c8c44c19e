/**
 * What an idle socket keeps on the server's heap, counted rather than timed (docs/performance.md,
 * "100 000 idle sockets"). The server runs alone in a child process (dist/, which `npm test`
 * builds), so that its heap holds nothing of the test's: two heap snapshots there, with FEW and
 * with MANY idle sockets each in 2 rooms, give the objects of each kind that the extra sockets
 * added, per socket. Counts of objects do not depend on the machine's load: the bounds are exact.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect, PREFIX, type Client } from '../helper.js'

const FEW = 10
const MANY = 50
const APP = new URL('../../dist/app.js', import.meta.url).href

/** The child: the app on a free port (printed), answering 'census' with object counts by constructor name. */
const CHILD = `
import v8 from 'node:v8'
import { buildApp } from ${JSON.stringify(APP)}
// A presence entry or a message's \`from\` (a snapshot shows a string's first characters only).
const IDENTITY = '{"connectionId":"'
// A real logger, as the server has (each request gets a child logger: none may stay with its socket).
const app = await buildApp({ config: { WS_HEARTBEAT_MS: 30000 }, logger: { level: 'warn' } })
await app.listen({ port: 0, host: '127.0.0.1' })
process.send({ port: app.server.address().port })
process.on('message', async () => {
  await new Promise(resolve => setImmediate(resolve))
  globalThis.gc()
  const chunks = []
  for await (const chunk of v8.getHeapSnapshot()) chunks.push(String(chunk))
  const { snapshot: { meta }, nodes, strings } = JSON.parse(chunks.join(''))
  const width = meta.node_fields.length
  const typeAt = meta.node_fields.indexOf('type')
  const nameAt = meta.node_fields.indexOf('name')
  const counts = {}
  for (let i = 0; i < nodes.length; i += width) {
    const type = meta.node_types[0][nodes[i + typeAt]]
    const name = strings[nodes[i + nameAt]]
    const key = type === 'object' ? name : type === 'string' && name.startsWith(IDENTITY) ? '(identity JSON)' : null
    if (key !== null) counts[key] = (counts[key] ?? 0) + 1
  }
  process.send(counts)
})
process.on('disconnect', () => process.exit(0))
`

t.test('an idle socket keeps no timer, logger or query handler of its own, and its identity once', async t => {
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: process.env
  })
  t.teardown(() => { child.kill() })
  const [{ port }] = await once(child, 'message') as [{ port: number }]
  const url = `ws://127.0.0.1:${port}${PREFIX}`
  const census = async () => {
    child.send('census')
    const [counts] = await once(child, 'message') as [Record<string, number>]
    return counts
  }
  const sockets: Client[] = []
  const open = async (count: number) => {
    while (sockets.length < count) sockets.push(await connect(t, `${url}/ws/idle-a?room=idle-b`))
  }
  await open(FEW)
  const before = await census()
  await open(MANY)
  const after = await census()
  const perSocket = (kind: string) => ((after[kind] ?? 0) - (before[kind] ?? 0)) / (MANY - FEW)

  t.equal(perSocket('Connection'), 1, 'the census sees each socket (one Connection each)')
  t.equal(perSocket('Session'), 1)
  t.equal(perSocket('Timeout'), 0, 'no timer per socket: the heartbeat is one interval, the idle timer is dropped')
  t.equal(perSocket('Pino'), 0, 'no child logger per socket')
  t.equal(perSocket('QueryFrames'), 0, 'history and presence handlers are made per frame')
  // ws's own, and the one of the socket's listeners (route ws.ts): none keeps the welcome frame.
  t.ok(perSocket('system / Context') <= 3, `closure contexts per socket: ${perSocket('system / Context')}, at most 3`)
  t.equal(perSocket('(identity JSON)'), 1, 'one identity JSON per socket, shared by its presence entries in both rooms')
})
