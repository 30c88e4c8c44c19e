// A complete chat-api webhook receiver, with nothing but Node's standard library:
//   WEBHOOK_SECRET=whsec_... node examples/webhook-receiver/server.mjs   (listens on PORT, default 4000)
// and start chat-api with WEBHOOK_URL=http://127.0.0.1:4000/chat-webhooks and the same WEBHOOK_SECRET.
//
// It verifies each request's Standard Webhooks signature, deduplicates by webhook-id (an event is
// delivered at least once: a retry after a timeout may bring one twice), stores every
// message.stored, keeps who is in each room from member.joined / member.left, and sends a push
// notification to a room's subscribers who were not in the room when a message was stored.
// The "database" and the push sender are in-memory stand-ins: replace them with yours.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import { pathToFileURL } from 'node:url'

/** Signatures older or newer than this are refused (replays). */
const TOLERANCE_SEC = 5 * 60
/** Request bodies larger than this are refused. */
const MAX_BODY_BYTES = 1024 * 1024

/** True when `headers` carry a valid signature of `body` (the raw bytes, as received) for `secret`. */
export function verify (secret, headers, body, nowSec = Date.now() / 1000) {
  const id = headers['webhook-id']
  const timestamp = headers['webhook-timestamp']
  const signatures = headers['webhook-signature']
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false
  if (!/^[0-9]+$/.test(timestamp) || Math.abs(nowSec - Number(timestamp)) > TOLERANCE_SEC) return false
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest()
  // The header may hold several space-separated signatures (during a secret rotation).
  return signatures.split(' ').some(signature => {
    const [version, value] = signature.split(',')
    if (version !== 'v1' || value === undefined) return false
    const given = Buffer.from(value, 'base64')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}

/** The receiver's state and logic, apart from HTTP, so that a test can look into it. */
export function createReceiver ({ secret, subscribers = new Map(), push = async () => {} }) {
  const db = {
    /** Ids of events already handled. In production: a table with a unique key, rows kept a few days. */
    seen: new Set(),
    /** Stored messages by `room epoch offset`: a replayed event overwrites, never duplicates. */
    messages: new Map(),
    /** Who is in each room now: room -> Map(connectionId -> user). */
    present: new Map()
  }

  async function handle (event) {
    const { type, data } = event
    if (type === 'member.joined') {
      if (!db.present.has(data.room)) db.present.set(data.room, new Map())
      db.present.get(data.room).set(data.connectionId, data.user)
    } else if (type === 'member.left') {
      db.present.get(data.room)?.delete(data.connectionId)
    } else if (type === 'room.vacated') {
      db.present.delete(data.room)
    } else if (type === 'message.stored') {
      db.messages.set(`${data.room} ${data.epoch} ${data.offset}`, data)
      const here = new Set(db.present.get(data.room)?.values() ?? [])
      for (const user of subscribers.get(data.room) ?? []) {
        if (user !== data.from.user && !here.has(user)) await push(user, data)
      }
    }
  }

  async function onRequest (headers, body) {
    if (!verify(secret, headers, body)) return 401
    const id = headers['webhook-id']
    // Already handled: acknowledge again, do nothing.
    if (db.seen.has(id)) return 204
    await handle(JSON.parse(body))
    // Marked only once handled: a failure above answers 500, and chat-api retries the event.
    db.seen.add(id)
    return 204
  }

  const server = createServer((req, res) => {
    const chunks = []
    let size = 0
    req.on('data', chunk => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) req.destroy()
      else chunks.push(chunk)
    })
    req.on('end', () => {
      onRequest(req.headers, Buffer.concat(chunks).toString('utf8')).then(status => {
        res.statusCode = status
        res.end()
      }, err => {
        console.error('handling a webhook failed', err)
        res.statusCode = 500
        res.end()
      })
    })
  })
  return { server, db }
}

// Run directly: listen, with a push that only logs.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const secret = process.env.WEBHOOK_SECRET
  if (secret === undefined || !secret.startsWith('whsec_')) {
    console.error('set WEBHOOK_SECRET (the same whsec_... as chat-api)')
    process.exit(1)
  }
  const subscribers = new Map([['lobby', ['alice', 'bob']]])
  const { server } = createReceiver({ secret, subscribers, push: async (user, message) => console.log(`push to ${user}: ${JSON.stringify(message.data)} in ${message.room}`) })
  server.listen(Number(process.env.PORT ?? 4000), () => console.log(`webhook receiver on ${JSON.stringify(server.address())}`))
}
