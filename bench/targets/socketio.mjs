/**
 * Socket.IO 4 with its Redis adapter, set up the way a careful user would for this job: WebSocket
 * transport only, no compression, rooms joined with `join`, messages sent with `io.to(room).emit`
 * (the sender included, as in chat-api). The server stamps the same fields chat-api does.
 *
 * Env: PORT, REDIS_URL, REDIS_CHANNEL_PREFIX; SIO_DEFLATE=true turns permessage-deflate on (ws's
 * per-socket deflate, messages of 1 KiB or more), for the `compression` scenario.
 */
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { Redis } from 'ioredis'
import { Server } from 'socket.io'
import { createAdapter } from '@socket.io/redis-adapter'

const PORT = Number(process.env.PORT ?? 3000)
const PREFIX = process.env.REDIS_CHANNEL_PREFIX ?? 'socket.io'
const ROOM = /^[A-Za-z0-9_.:-]{1,64}$/
const tag = randomBytes(6).toString('base64url')
let seq = 0

const pub = new Redis(process.env.REDIS_URL)
const sub = pub.duplicate()
pub.on('error', () => {})
sub.on('error', () => {})

const server = createServer()
const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: process.env.SIO_DEFLATE === 'true' ? { threshold: 1024 } : false,
  httpCompression: false,
  serveClient: false,
  adapter: createAdapter(pub, sub, { key: PREFIX })
})

io.on('connection', (socket) => {
  const from = { connectionId: socket.id, user: null }
  socket.on('join', (room, ack) => {
    if (typeof room !== 'string' || !ROOM.test(room)) return
    socket.join(room)
    if (typeof ack === 'function') ack()
  })
  socket.on('message', (room, data, ack) => {
    if (!socket.rooms.has(room)) return
    const messageId = `${tag}-${(++seq).toString(36)}`
    io.to(room).emit('message', { room, data, from, messageId, ts: Date.now() })
    if (typeof ack === 'function') ack(messageId)
  })
})

server.listen(PORT, '127.0.0.1')
const stop = () => {
  io.close()
  pub.disconnect()
  sub.disconnect()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
