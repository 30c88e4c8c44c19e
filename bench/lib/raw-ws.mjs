/**
 * A bare WebSocket client over net.Socket for the load generator: one upgrade request, then a
 * frame parser that hands each text frame to `onText(buf, start, end)` without copying or
 * decoding it. `ws` as a client costs a few microseconds per frame, which at hundreds of thousands
 * of deliveries per second would make the load generator, not the server, the thing measured.
 * Client frames are masked with an all-zero key (legal, and the XOR becomes a no-op).
 */
import { connect } from 'node:net'

const UPGRADE_END = Buffer.from('\r\n\r\n')
const OP_TEXT = 1
const OP_CLOSE = 8
const OP_PING = 9
const OP_PONG = 10

/** A masked client frame (zero mask key) around `payload`. */
export function clientFrame (payload, opcode = OP_TEXT) {
  const len = payload.length
  const head = len < 126 ? 6 : len < 65536 ? 8 : 14
  const out = Buffer.allocUnsafe(head + len)
  out[0] = 0x80 | opcode
  if (len < 126) {
    out[1] = 0x80 | len
  } else if (len < 65536) {
    out[1] = 0x80 | 126
    out.writeUInt16BE(len, 2)
  } else {
    out[1] = 0x80 | 127
    out.writeUInt32BE(0, 2)
    out.writeUInt32BE(len, 6)
  }
  out.writeUInt32BE(0, head - 4)
  payload.copy(out, head)
  return out
}

/**
 * Heartbeats this process's sockets answered (WebSocket pings here, Engine.IO pings in clients.mjs):
 * the idle scenario counts them over its window to price one heartbeat.
 */
export const heartbeats = { answered: 0 }

export class RawWebSocket {
  /** Called with (buf, start, end) for each text frame; the bytes are only valid during the call. */
  onText = () => {}
  onClose = () => {}
  /** The server's close frame, if it sent one: `1013 slow consumer`, say (for error messages). */
  closeFrame = null
  #rest = null

  constructor (socket) {
    this.socket = socket
    this.closed = false
    socket.on('close', () => {
      this.closed = true
      this.onClose()
    })
  }

  /**
   * Opens `ws://127.0.0.1:port/path`, from `localAddress` when given; resolves once the server
   * answered 101. `onText` is given here because the first frames may arrive in the same chunk as
   * the 101 answer.
   */
  static open (port, path, { timeoutMs = 10000, onText, localAddress } = {}) {
    return new Promise((resolve, reject) => {
      // Another loopback source address (127.0.0.2, ...) gives another range of source ports.
      const socket = connect({ host: '127.0.0.1', port, noDelay: true, localAddress })
      let head = Buffer.alloc(0)
      const timer = setTimeout(() => fail(new Error(`upgrade of ${path} timed out`)), timeoutMs)
      const fail = (err) => {
        clearTimeout(timer)
        socket.destroy()
        reject(err)
      }
      socket.once('error', fail)
      socket.once('connect', () => {
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
      })
      const onData = (chunk) => {
        head = Buffer.concat([head, chunk])
        const end = head.indexOf(UPGRADE_END)
        if (end === -1) return
        socket.off('data', onData)
        clearTimeout(timer)
        const status = head.subarray(0, head.indexOf('\r\n')).toString()
        if (!status.startsWith('HTTP/1.1 101')) return fail(new Error(`${path}: ${status}`))
        socket.off('error', fail)
        socket.on('error', () => {}) // a reset shows up as 'close'
        const ws = new RawWebSocket(socket)
        if (onText !== undefined) ws.onText = onText
        socket.on('data', (data) => ws.#receive(data))
        resolve(ws)
        const rest = head.subarray(end + 4)
        if (rest.length > 0) ws.#receive(rest)
      }
      socket.on('data', onData)
    })
  }

  #receive (chunk) {
    const buf = this.#rest === null ? chunk : Buffer.concat([this.#rest, chunk])
    const size = buf.length
    let off = 0
    while (size - off >= 2) {
      let len = buf[off + 1] & 0x7f
      let head = 2
      if (len === 126) {
        if (size - off < 4) break
        len = buf.readUInt16BE(off + 2)
        head = 4
      } else if (len === 127) {
        if (size - off < 10) break
        len = buf.readUInt32BE(off + 6)
        head = 10
      }
      if (size - off < head + len) break
      const opcode = buf[off] & 0x0f
      const start = off + head
      off = start + len
      if (opcode === OP_TEXT) this.onText(buf, start, off)
      else if (opcode === OP_PING) this.#pong(buf.subarray(start, off))
      else if (opcode === OP_CLOSE) {
        this.closeFrame = len >= 2 ? `${buf.readUInt16BE(start)} ${buf.toString('utf8', start + 2, off)}`.trim() : 'no code'
        this.socket.destroy()
      }
    }
    this.#rest = off < size ? buf.subarray(off) : null
  }

  #pong (payload) {
    heartbeats.answered++
    this.socket.write(clientFrame(payload, OP_PONG))
  }

  sendText (text) {
    this.socket.write(clientFrame(Buffer.from(text)))
  }

  /** Writes already-built client frames as one chunk. */
  sendFrames (frames) {
    this.socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames))
  }

  close () {
    this.socket.destroy()
  }
}
