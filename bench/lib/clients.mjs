/**
 * The load generator's view of each target's protocol: open a socket joined to a room, publish a
 * message to it, and report every delivery as (step, send time in µs). chat-api and the floor
 * speak docs/protocol.md frames (read with the bare client of raw-ws.mjs); Socket.IO is driven by
 * socket.io-client over the WebSocket transport.
 *
 * A message's `data` is exactly 100 bytes: "<step>,<send time µs>," padded with "x". Latency is
 * measured in the one load generator process, so both ends read the same clock.
 */
import { io } from 'socket.io-client'
import { RawWebSocket, clientFrame, heartbeats } from './raw-ws.mjs'

export { heartbeats }

export const DATA_BYTES = 100
const PADDING = 'x'.repeat(DATA_BYTES)
const DATA_MARK = Buffer.from('"data":"')
const WELCOME_MARK = Buffer.from('"type":"welcome"')
const JOINED_MARK = Buffer.from('"type":"joined"')
const COMMA = 44
const ZERO = 48

export function makeData (step, sentUs) {
  const head = `${step},${sentUs},`
  return head + PADDING.slice(head.length)
}

/**
 * Wall-clock µs from the high-resolution clock. The publishers run in a worker thread of the load
 * generator: `timeOrigin + now()` reads the same clock in both threads.
 */
export const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000)

/** Reads "<step>,<µs>," at `p` of `buf` and reports it; returns nothing. */
function readStamp (buf, p, onDelivery) {
  let step = 0
  let c
  while ((c = buf[p++]) !== COMMA) step = step * 10 + c - ZERO
  let sent = 0
  while ((c = buf[p++]) !== COMMA) sent = sent * 10 + c - ZERO
  onDelivery(step, sent)
}

/**
 * Options of `open` for every protocol: `alsoJoin`, a second room joined (with a `join` frame)
 * before the socket counts as ready; `localAddress`, the loopback address to connect from.
 */
const NO_OPTIONS = {}

/** True when the text frame at buf[start, end) holds `mark`. */
const holds = (buf, start, end, mark) => {
  const at = buf.indexOf(mark, start)
  return at !== -1 && at < end
}

/** chat-api and floor: a socket opened on /api/chat-api/ws/{room}, ready at its `welcome` (and `joined`). */
class ChatClient {
  constructor (ws, room) {
    this.ws = ws
    this.room = room
    this.roomJson = JSON.stringify(room)
  }

  static async open (port, room, onDelivery, { alsoJoin, localAddress, timeoutMs = 15000 } = NO_OPTIONS) {
    let welcomed
    const welcome = new Promise((resolve) => { welcomed = resolve })
    const onData = (buf, start, end) => {
      const at = buf.indexOf(DATA_MARK, start)
      if (at !== -1 && at < end) readStamp(buf, at + DATA_MARK.length, onDelivery)
    }
    const ws = await RawWebSocket.open(port, `/api/chat-api/ws/${room}`, {
      timeoutMs,
      localAddress,
      onText (buf, start, end) {
        if (!holds(buf, start, end, WELCOME_MARK)) return
        if (alsoJoin === undefined) {
          this.onText = onData
          return welcomed()
        }
        this.sendText(`{"type":"join","room":${JSON.stringify(alsoJoin)}}`)
        this.onText = (buf, start, end) => {
          if (!holds(buf, start, end, JOINED_MARK)) return
          this.onText = onData
          welcomed()
        }
      }
    })
    let timer
    await Promise.race([
      welcome,
      new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no welcome in ${room}`)), timeoutMs)
        ws.onClose = () => reject(new Error(`closed before welcome in ${room} (${ws.closeFrame === null ? 'no close frame' : `close ${ws.closeFrame}`})`))
      })
    ]).finally(() => clearTimeout(timer))
    ws.onClose = () => {}
    return new ChatClient(ws, room)
  }

  /** One client frame carrying a message to this socket's room. */
  frame (data) {
    return clientFrame(Buffer.from(`{"type":"message","room":${this.roomJson},"data":"${data}"}`))
  }

  publish (datas) {
    this.ws.sendFrames(datas.map(data => this.frame(data)))
  }

  close () {
    this.ws.close()
  }
}

/** Socket.IO: socket.io-client, WebSocket transport only, ready once the `join` is acknowledged. */
class SocketIoClient {
  constructor (socket, room) {
    this.socket = socket
    this.room = room
  }

  static async open (port, room, onDelivery, { alsoJoin, localAddress, timeoutMs = 15000 } = NO_OPTIONS) {
    const socket = io(`http://127.0.0.1:${port}`, {
      localAddress,
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: timeoutMs
    })
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('connect_error', reject)
    })
    socket.io.on('ping', () => { heartbeats.answered++ }) // Engine.IO answers it itself
    await socket.timeout(timeoutMs).emitWithAck('join', room)
    if (alsoJoin !== undefined) await socket.timeout(timeoutMs).emitWithAck('join', alsoJoin)
    socket.on('message', (msg) => {
      const data = msg.data
      const a = data.indexOf(',')
      const b = data.indexOf(',', a + 1)
      onDelivery(Number(data.slice(0, a)), Number(data.slice(a + 1, b)))
    })
    return new SocketIoClient(socket, room)
  }

  publish (datas) {
    for (const data of datas) this.socket.emit('message', this.room, data)
  }

  close () {
    this.socket.disconnect()
  }
}

/**
 * Socket.IO spoken directly over the bare client (Engine.IO 4 packets: `0` open, `40` connect,
 * `2`/`3` ping/pong, `42[...]` event, `43N[...]` ack). Not the default: it answers whether the load
 * generator, rather than the server, is what limits Socket.IO (`--sio-client raw`).
 */
class RawSocketIoClient {
  constructor (ws, room) {
    this.ws = ws
    this.room = room
    this.roomJson = JSON.stringify(room)
  }

  static async open (port, room, onDelivery, { alsoJoin, localAddress, timeoutMs = 15000 } = NO_OPTIONS) {
    let ready, failed
    let acks = alsoJoin === undefined ? 1 : 2
    const joined = new Promise((resolve, reject) => { ready = resolve; failed = reject })
    const ws = await RawWebSocket.open(port, '/socket.io/?EIO=4&transport=websocket', {
      timeoutMs,
      localAddress,
      onText (buf, start, end) {
        const type = buf[start]
        if (type === 0x34 && buf[start + 1] === 0x32) { // 42: an event
          const at = buf.indexOf(DATA_MARK, start)
          if (at !== -1 && at < end) readStamp(buf, at + DATA_MARK.length, onDelivery)
        } else if (type === 0x32 && end - start === 1) { // 2: ping
          heartbeats.answered++
          this.sendText('3')
        } else if (type === 0x30) { // 0: open
          this.sendText('40')
        } else if (type === 0x34 && buf[start + 1] === 0x30) { // 40: connected
          this.sendText(`420["join",${JSON.stringify(room)}]`)
          if (alsoJoin !== undefined) this.sendText(`421["join",${JSON.stringify(alsoJoin)}]`)
        } else if (type === 0x34 && buf[start + 1] === 0x33) { // 43: a join's ack
          if (--acks === 0) ready()
        } else if (type === 0x34 && buf[start + 1] === 0x34) { // 44: connect error
          failed(new Error(buf.toString('utf8', start, end)))
        }
      }
    })
    let timer
    await Promise.race([
      joined,
      new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`socket.io join of ${room} timed out`)), timeoutMs)
        ws.onClose = () => reject(new Error(`closed before joining ${room}`))
      })
    ]).finally(() => clearTimeout(timer))
    ws.onClose = () => {}
    return new RawSocketIoClient(ws, room)
  }

  publish (datas) {
    this.ws.sendFrames(datas.map(data => clientFrame(Buffer.from(`42["message",${this.roomJson},"${data}"]`))))
  }

  close () {
    this.ws.close()
  }
}

export const PROTOCOLS = { chat: ChatClient, sio: SocketIoClient, 'sio-raw': RawSocketIoClient }
