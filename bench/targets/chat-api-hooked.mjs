/**
 * chat-api with a `publish` hook over HTTP on every message (HOOK_URL, HOOK_EVENTS=publish): a
 * hook server that allows at once runs in this same process, so the CPU it takes is counted as
 * part of chat-api's cost per message. `npm run bench -- --targets chat-api,chat-api-hooks`.
 */
import { createServer } from 'node:http'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'

const hooks = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"allow":true}')
  })
})
hooks.keepAliveTimeout = 60_000
hooks.listen(0, '127.0.0.1')
await once(hooks, 'listening')
process.env.HOOK_URL = `http://127.0.0.1:${hooks.address().port}/hooks`
process.env.HOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`
process.env.HOOK_EVENTS = 'publish'
await import('../../dist/server.js')
