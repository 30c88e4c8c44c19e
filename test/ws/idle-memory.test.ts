/**
 * What an idle socket keeps on the server's heap, counted rather than timed (docs/performance.md,
 * "100 000 idle sockets"). The server runs alone in a child process (dist/, which `npm test`
 * builds), so that its heap holds nothing of the test's: two heap snapshots there, with FEW and
 * with MANY idle sockets each in 2 rooms, give the objects of each kind that the extra sockets
 * added, per socket. Counts of objects do not depend on the machine's load: the bounds are exact.
 */
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { connect, PREFIX, type Client } from '../helper.js'

const FEW = 10
const MANY = 50
const APP = new URL('../../dist/app.js', import.meta.url).href

/**
 * What both children do: answer 'census' with the heap's object counts by constructor name, after a
 * full GC, and print the port they listen on first.
 */
const CENSUS = `
import v8 from 'node:v8'
// A presence entry or a message's \`from\` (a snapshot shows a string's first characters only).
const IDENTITY = '{"connectionId":"'
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

/** chat-api, with a real logger as the server has (each request gets a child logger: none may stay with its socket). */
const CHAT_API = `
import { buildApp } from ${JSON.stringify(APP)}
const app = await buildApp({ config: { WS_HEARTBEAT_MS: 30000 }, logger: { level: 'warn' } })
await app.listen({ port: 0, host: '127.0.0.1' })
process.send({ port: app.server.address().port })
${CENSUS}`

/**
 * The yardstick for closures: a bare ws server whose connection handler puts a message, a pong and
 * a close listener on each socket, sharing one state of the socket, as any server must. What ws
 * and Node keep per socket differs between Node lines (chat-api counted 3 closure contexts per
 * socket on Node 20, 5 on Node 24 and 26), so chat-api is held to this server's count on the same
 * Node, not to a number.
 */
const BARE_WS = `
import { WebSocketServer } from 'ws'
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
await new Promise(resolve => wss.once('listening', resolve))
wss.on('connection', (socket) => {
  // State of the socket its listeners share, as any server keeps: one closure context per socket.
  let alive = true
  socket.on('message', () => { alive = true })
  socket.on('pong', () => { alive = true })
  socket.on('close', () => { alive = false })
  socket.send(JSON.stringify({ type: 'welcome', alive }))
})
process.send({ port: wss.address().port })
${CENSUS}`

/** Starts `script` in a child of its own and returns its census per socket between FEW and MANY idle sockets. */
async function perSocketCensus (t: Test, script: string, path: string): Promise<(kind: string) => number> {
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: process.env,
    cwd: fileURLToPath(new URL('../..', import.meta.url)) // where `ws` resolves from
  })
  t.teardown(() => { child.kill() })
  const [{ port }] = await once(child, 'message') as [{ port: number }]
  const census = async () => {
    child.send('census')
    const [counts] = await once(child, 'message') as [Record<string, number>]
    return counts
  }
  const sockets: Client[] = []
  const open = async (count: number) => {
    while (sockets.length < count) sockets.push(await connect(t, `ws://127.0.0.1:${port}${path}`))
  }
  await open(FEW)
  const before = await census()
  await open(MANY)
  const after = await census()
  return (kind: string) => ((after[kind] ?? 0) - (before[kind] ?? 0)) / (MANY - FEW)
}

t.test('an idle socket keeps no timer, logger or query handler of its own, and its identity once', async t => {
  const perSocket = await perSocketCensus(t, CHAT_API, `${PREFIX}/ws/idle-a?room=idle-b`)
  const bare = await perSocketCensus(t, BARE_WS, '/ws')

  t.equal(perSocket('Connection'), 1, 'the census sees each socket (one Connection each)')
  t.equal(perSocket('Session'), 1)
  t.equal(perSocket('Timeout'), 0, 'no timer per socket: the heartbeat is one interval, the idle timer is dropped')
  t.equal(perSocket('Pino'), 0, 'no child logger per socket')
  t.equal(perSocket('QueryFrames'), 0, 'history and presence handlers are made per frame')
  // ws's and Node's own, and the one of the socket's listeners (route ws.ts): none keeps the
  // welcome frame, nor anything else a bare ws server would not keep.
  const contexts = perSocket('system / Context')
  const bareContexts = bare('system / Context')
  t.ok(bareContexts > 0, `the yardstick is counted: ${bareContexts} per socket of a bare ws server`)
  t.ok(contexts <= bareContexts, `closure contexts per socket: ${contexts}, at most a bare ws server's ${bareContexts}`)
  t.equal(perSocket('(identity JSON)'), 1, 'one identity JSON per socket, shared by its presence entries in both rooms')
})
