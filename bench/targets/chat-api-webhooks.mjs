/**
 * chat-api with webhooks on: every stored message raises message.stored, POSTed to a local
 * receiver that answers 204 at once. The receiver runs in a process of its own (it competes for
 * the cores, as a receiver on the same host would; its CPU is not counted as chat-api's), and
 * exits with this process.
 *   npm run bench -- --rounds 1 --scenarios fanout,small-rooms --targets floor,chat-api,chat-api-webhooks
 */
import { randomBytes } from 'node:crypto'
import { startWebhookSink } from '../lib/webhook-sink.mjs'

const sink = await startWebhookSink()
process.on('exit', () => sink.kill())
process.env.WEBHOOK_URL = `http://127.0.0.1:${sink.port}/hooks`
process.env.WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`
process.env.WEBHOOK_EVENTS = 'message.stored'
await import('../../dist/server.js')
