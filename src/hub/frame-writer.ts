/**
 * The delivery fast path: a message's WebSocket frame is built once and the same bytes are written
 * to every recipient's TCP stream, and each stream is corked on its first write of an event-loop
 * turn and uncorked with all the others in one setImmediate. A member of a busy room then costs
 * one syscall per turn instead of one per message, and no allocation per message.
 *
 * Writing around ws's Sender is only safe while it has nothing of its own in flight (a frame
 * being compressed, a queued Blob, a fragmented message); `rawStream` checks that and returns null
 * otherwise, and the caller falls back to `socket.send`.
 */
import type { Duplex, Writable } from 'node:stream'
import type { WebSocket } from 'ws'

const FIN_TEXT = 0x81
/** RSV1 marks a frame whose payload is compressed (RFC 7692, permessage-deflate). */
const FIN_TEXT_RSV1 = 0xc1
const OPEN = 1

/** Length of a server frame's header for a payload of `length` bytes. */
export function frameHeadLength (length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10
}

/**
 * The bytes of an unmasked, final text frame carrying `payload` (server frames are never masked);
 * `deflated` says the payload is permessage-deflate data (RSV1 set).
 */
export function textFrame (payload: Buffer, deflated = false): Buffer {
  const length = payload.length
  const head = frameHeadLength(length)
  const frame = Buffer.allocUnsafe(head + length)
  frame[0] = deflated ? FIN_TEXT_RSV1 : FIN_TEXT
  if (length < 126) {
    frame[1] = length
  } else if (length < 65536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2)
    frame.writeUInt32BE(length >>> 0, 6)
  }
  payload.copy(frame, head)
  return frame
}

/** The parts of ws 8's WebSocket that are not in its typings (lib/websocket.js, lib/sender.js). */
interface WsInternals {
  _socket?: Duplex | null
  _sender?: { _state?: number, _queue?: unknown[], _firstFragment?: boolean } | null
}

/**
 * The socket's TCP stream when a frame may be written to it directly: the socket is open and ws's
 * Sender is idle (state DEFAULT, empty queue, not inside a fragmented message), so nothing of its
 * own could land after our bytes. Null otherwise, or if ws's internals are not what we expect.
 */
export function rawStream (socket: WebSocket): Duplex | null {
  if (socket.readyState !== OPEN) return null
  const { _socket: stream, _sender: sender } = socket as unknown as WsInternals
  if (stream == null || sender == null) return null
  if (sender._state !== 0 || sender._queue?.length !== 0 || sender._firstFragment !== true) return null
  return stream
}

/**
 * Told what a stream still holds once its turn's frames were handed to it: while corked a stream's
 * length says nothing of what the reader takes, so the slow-consumer bound is checked here.
 */
export interface FlushWatcher {
  flushed (stream: Writable): void
}

/** Corks each stream at its first write of the turn and uncorks them all in one setImmediate. */
export class WriteBatch {
  private corked: Writable[] = []
  private watchers: FlushWatcher[] = []
  private scheduled = false

  write (stream: Writable, bytes: Buffer, watcher: FlushWatcher): void {
    // Corked by someone else (ws corks only within one call) means they will uncork it.
    if (stream.writableCorked === 0) {
      stream.cork()
      this.corked.push(stream)
      this.watchers.push(watcher)
    }
    stream.write(bytes)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flush)
    }
  }

  /**
   * Uncorks every stream corked this turn: each writes its frames with one writev, and what the
   * kernel did not take at once is left in the stream's length for its watcher to judge.
   */
  readonly flush = (): void => {
    this.scheduled = false
    const corked = this.corked
    const watchers = this.watchers
    this.corked = []
    this.watchers = []
    // A stream ended or destroyed meanwhile is no longer corked; uncork() is then a no-op.
    for (let i = 0; i < corked.length; i++) {
      corked[i].uncork()
      watchers[i].flushed(corked[i])
    }
  }
}

/** One batch per process: every hub's connections flush together. */
export const writeBatch = new WriteBatch()
