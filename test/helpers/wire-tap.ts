/**
 * Reads what a server writes to a `ws` client on the wire: every byte after the upgrade, split
 * into frames with their RSV1 bit (permessage-deflate) and on-the-wire size. The tap listens to
 * the client's TCP socket beside ws's own reader, so it sees exactly what the server sent.
 */
import type WebSocket from 'ws'
import type { Duplex } from 'node:stream'

export interface WireFrame {
  /** RSV1: the payload is compressed. */
  rsv1: boolean
  opcode: number
  /** Header and payload, as written. */
  bytes: number
}

export interface WireTap {
  /** Every byte received after the upgrade. */
  bytes: number
  frames: WireFrame[]
}

/** Call before the socket opens (right after `new WebSocket`): the tap starts at `open`. */
export function tapWire (ws: WebSocket): WireTap {
  const tap: WireTap = { bytes: 0, frames: [] }
  let pending = Buffer.alloc(0)
  ws.once('open', () => {
    // ws re-queues what came with the 101 and starts reading in the same tick: nothing is missed.
    const socket = (ws as unknown as { _socket: Duplex })._socket
    socket.on('data', (chunk: Buffer) => {
      tap.bytes += chunk.length
      pending = Buffer.concat([pending, chunk])
      for (;;) {
        const frame = parseHead(pending)
        if (frame === null || pending.length < frame.bytes) break
        tap.frames.push(frame)
        pending = pending.subarray(frame.bytes)
      }
    })
  })
  return tap
}

/** A server frame's header (servers never mask), or null until enough bytes arrived. */
function parseHead (buf: Buffer): WireFrame | null {
  if (buf.length < 2) return null
  const short = buf[1] & 0x7f
  let head = 2
  let length = short
  if (short === 126) {
    if (buf.length < 4) return null
    length = buf.readUInt16BE(2)
    head = 4
  } else if (short === 127) {
    if (buf.length < 10) return null
    length = Number(buf.readBigUInt64BE(2))
    head = 10
  }
  return { rsv1: (buf[0] & 0x40) !== 0, opcode: buf[0] & 0x0f, bytes: head + length }
}
