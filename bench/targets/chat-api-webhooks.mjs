/**
 * chat-api with webhooks on: every stored message raises message.stored, POSTed to a local
 * receiver that answers 204 at once. The receiver runs in a process of its own (it competes for
 * the cores, as a receiver on the same host would; its CPU is not counted as chat-api's), and
 * exits with this process.
 *   npm run bench -- --rounds 1 --scenarios fanout,small-rooms --targets floor,chat-api,chat-api-webhooks
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'

const SINK = `
const server = require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { res.statusCode = 204; res.end() }) })
server.listen(0, '127.0.0.1', () => process.send(server.address().port))
process.on('disconnect', () => process.exit(0))`

const sink = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
const [port] = await once(sink, 'message')
process.on('exit', () => sink.kill())
process.env.WEBHOOK_URL = `http://127.0.0.1:${port}/hooks`
process.env.WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`
process.env.WEBHOOK_EVENTS = 'message.stored'
await import('../../dist/server.js')
