/**
 * The floor: chat-api's hot path with no framework, as fast as Node gets for this job. It speaks
 * the chat-api frames (`welcome`, `message`, `ack`, `joined`) at /api/chat-api/ws/{room}, fans out
 * through Redis pub/sub, and does the two things that matter: each message is framed once (the
 * same bytes go to every member), and socket writes are batched per event-loop turn (cork on the
 * first write, uncork all in one setImmediate), so a busy socket costs one syscall per turn.
 *
 * It pings every socket each WS_HEARTBEAT_MS (default 30 s, as chat-api) and drops one that did not
 * answer the last ping, so idle sockets cost what they cost in chat-api; 0 turns it off.
 *
 * Env: PORT, REDIS_URL, REDIS_CHANNEL_PREFIX, WS_MAX_BUFFERED_BYTES, WS_HEARTBEAT_MS.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { Redis } from 'ioredis'
import { WebSocketServer } from 'ws'

const PORT = Number(process.env.PORT ?? 3000)
const PREFIX = process.env.REDIS_CHANNEL_PREFIX ?? 'floor'
const MAX_BUFFERED = Number(process.env.WS_MAX_BUFFERED_BYTES ?? 1 << 20)
const PATH = '/api/chat-api/ws'
const ROOM = /^[A-Za-z0-9_.:-]{1,64}$/
const instanceId = randomUUID()
// Envelope on Redis: 8 bytes of instance tag, then the client-ready frame payload.
const TAG = randomBytes(8)
let seq = 0

const pub = new Redis(process.env.REDIS_URL)
const sub = pub.duplicate()
pub.on('error', () => {})
sub.on('error', () => {})
const channelOf = (room) => `${PREFIX}:room:${room}`
const roomOfChannel = (channel) => channel.toString('latin1', PREFIX.length + 6)

/** room -> local sockets, and the subscription promise of each room with local members. */
const rooms = new Map()
const subscriptions = new Map()

// --- one WebSocket frame per message (server frames are never masked) ---
function frame (payload) {
  const len = payload.length
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10
  const out = Buffer.allocUnsafe(head + len)
  out[0] = 0x81
  if (len < 126) {
    out[1] = len
  } else if (len < 65536) {
    out[1] = 126
    out.writeUInt16BE(len, 2)
  } else {
    out[1] = 127
    out.writeUInt32BE(0, 2)
    out.writeUInt32BE(len, 6)
  }
  payload.copy(out, head)
  return out
}

// --- writes batched per event-loop turn ---
const corked = []
let flushScheduled = false
function flush () {
  flushScheduled = false
  for (let i = 0; i < corked.length; i++) {
    corked[i].corked = false
    corked[i].raw.uncork()
  }
  corked.length = 0
}
function write (client, bytes) {
  if (client.ws.readyState !== 1) return
  if (!client.corked) {
    client.corked = true
    client.raw.cork()
    corked.push(client)
  }
  client.raw.write(bytes)
  if (!flushScheduled) {
    flushScheduled = true
    setImmediate(flush)
  }
  if (client.raw.writableLength > MAX_BUFFERED) client.ws.close(1013, 'slow consumer')
}
const writeJson = (client, obj) => write(client, frame(Buffer.from(JSON.stringify(obj))))

function deliver (room, wire) {
  const members = rooms.get(room)
  if (members === undefined) return
  for (const client of members) write(client, wire)
}

sub.on('messageBuffer', (channel, message) => {
  if (message.length < 8 || message.compare(TAG, 0, 8, 0, 8) === 0) return // our own echo
  deliver(roomOfChannel(channel), frame(message.subarray(8)))
})

function join (client, room) {
  let members = rooms.get(room)
  if (members === undefined) {
    members = new Set()
    rooms.set(room, members)
    subscriptions.set(room, sub.subscribe(channelOf(room)))
  }
  members.add(client)
  client.rooms.add(room)
  return subscriptions.get(room)
}

function leaveAll (client) {
  for (const room of client.rooms) {
    const members = rooms.get(room)
    members.delete(client)
    if (members.size === 0) {
      rooms.delete(room)
      subscriptions.delete(room)
      sub.unsubscribe(channelOf(room)).catch(() => {})
    }
  }
}

function onFrame (client, raw) {
  let msg
  try {
    msg = JSON.parse(raw)
  } catch {
    return writeJson(client, { type: 'error', code: 'bad_json', message: 'frame is not valid JSON' })
  }
  const { type, room, id } = msg
  if (type === 'message') {
    if (!client.rooms.has(room)) return writeJson(client, { type: 'error', code: 'not_in_room', message: 'join first', id })
    const messageId = `${client.tag}-${(++seq).toString(36)}`
    const payload = Buffer.from(JSON.stringify({ type, room, data: msg.data, from: client.from, messageId, ts: Date.now() }))
    deliver(room, frame(payload))
    pub.publish(channelOf(room), Buffer.concat([TAG, payload])).catch(() => {})
    if (id !== undefined) writeJson(client, { type: 'ack', id, messageId })
  } else if (type === 'join' && typeof room === 'string' && ROOM.test(room)) {
    join(client, room).then(() => writeJson(client, { type: 'joined', room, id }))
  } else if (type === 'ping') {
    writeJson(client, { type: 'pong', id })
  } else {
    writeJson(client, { type: 'error', code: 'bad_frame', message: 'unsupported frame', id })
  }
}

const server = createServer((_req, res) => {
  res.writeHead(426, { 'content-type': 'application/json' }).end('{"error":"upgrade_required"}')
})
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 65536 })
server.on('upgrade', (req, socket, head) => {
  const path = req.url.split('?')[0]
  const room = path.startsWith(PATH + '/') ? path.slice(PATH.length + 1) : null
  if (path !== PATH && (room === null || !ROOM.test(room))) return socket.destroy()
  wss.handleUpgrade(req, socket, head, (ws) => {
    const connectionId = randomUUID()
    const client = { ws, raw: ws._socket, corked: false, rooms: new Set(), tag: connectionId.slice(0, 8), from: { connectionId, user: null } }
    const held = []
    let ready = false
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'binary frames are not accepted')
      if (ready) onFrame(client, data)
      else held.push(data)
    })
    ws.on('close', () => leaveAll(client))
    ws.on('pong', () => { ws.missedPong = false })
    const joined = room === null ? Promise.resolve() : join(client, room)
    joined.then(() => {
      writeJson(client, { type: 'welcome', connectionId, instanceId, rooms: room === null ? [] : [room], user: null })
      ready = true
      for (const data of held) onFrame(client, data)
    })
  })
})

const HEARTBEAT_MS = Number(process.env.WS_HEARTBEAT_MS ?? 30000)
if (HEARTBEAT_MS > 0) {
  setInterval(() => {
    for (const ws of wss.clients) {
      if (ws.missedPong) {
        ws.terminate()
        continue
      }
      ws.missedPong = true
      ws.ping()
    }
  }, HEARTBEAT_MS).unref()
}

server.listen(PORT, '127.0.0.1')
const stop = () => {
  for (const client of wss.clients) client.terminate()
  server.close()
  pub.disconnect()
  sub.disconnect()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
