/**
 * One client socket as the hub sees it: who it is, which rooms it is in, and a `send` that enforces
 * the slow-consumer bound. Outgoing frames are Buffers serialised once per message by the caller;
 * a fan-out also frames them once (`sendFramed`, compressed once too), so a recipient costs a
 * buffered write.
 */
import type { WebSocket } from 'ws'
import { CloseCode } from '../protocol.js'
import type { Writable } from 'node:stream'
import { rawStream, writeBatch, type FlushWatcher } from './frame-writer.js'
import { OutgoingFrame, type BytesSent } from './outgoing-frame.js'
import type { Principal } from './principal.js'

// Text frame, no compression: the fallback when ws's Sender is busy (see frame-writer.ts). A plain
// frame is valid on a socket that negotiated permessage-deflate too.
const SEND_OPTS = { binary: false, compress: false } as const
const OPEN = 1

/** How a connection's frames leave: which get compressed, and where the bytes written are counted. */
export interface SocketOutput {
  /** Payloads of at least this many bytes go out compressed; Infinity: never (not negotiated, or off). */
  deflateMinBytes: number
  /** Bytes written to sockets, frame headers included (the hub's, read by the metrics): each message adds its own. */
  sent: BytesSent
}

export class Connection implements FlushWatcher {
  readonly rooms = new Set<string>()
  /** Cleared by each heartbeat, set by each pong; still false at the next beat means dead. */
  alive = true
  /** What the connect hook attached (a JSON object of at most 1 KiB, as text), shown by presence; null: none. */
  meta: string | null = null
  /** Frames held until `welcome` is sent, so that `welcome` is always the first frame. */
  private backlog: Buffer[] | null = []
  private identity: string | null = null

  constructor (
    readonly id: string,
    readonly socket: WebSocket,
    /** Replaced by a `refresh` frame's token (same `sub`, new rooms and scope). */
    public principal: Principal,
    private readonly maxBufferedBytes: number,
    /**
     * Called when the server closes the socket. The close handshake may take long (a slow consumer
     * reads its backlog first; ws waits up to 30 s), but the connection is over for the hub now.
     */
    private readonly onServerClose: (conn: Connection, code: number) => void = () => {},
    private readonly output: SocketOutput = { deflateMinBytes: Infinity, sent: { bytes: 0 } }
  ) {}

  /**
   * `{"connectionId","user"}`, serialised once for the socket's lifetime (a refresh keeps the
   * user): the `from` of everything it sends, and its presence entry in every room it is in.
   */
  get identityJson (): string {
    this.identity ??= JSON.stringify({ connectionId: this.id, user: this.principal.user })
    return this.identity
  }

  get open (): boolean {
    return this.socket.readyState === OPEN
  }

  /** WS_MAX_BUFFERED_BYTES: past it (at a turn's end) the socket is a slow consumer. */
  get maxBuffered (): number {
    return this.maxBufferedBytes
  }

  /** Bytes written to the socket that the reader has not taken yet (this turn's corked ones included). */
  get buffered (): number {
    return this.socket.bufferedAmount
  }

  send (frame: Buffer): void {
    this.sendFramed(new OutgoingFrame(frame))
  }

  /**
   * Sends a message whose WebSocket frames `out` builds once for all its recipients: the plain one,
   * or the compressed one if this socket negotiated compression and the message is big enough.
   * The write is batched until the end of the event-loop turn.
   */
  sendFramed (out: OutgoingFrame): void {
    const frame = out.payload
    if (this.backlog !== null) {
      this.backlog.push(frame)
      return
    }
    const socket = this.socket
    const stream = rawStream(socket)
    if (stream !== null) {
      // What earlier turns left unsent is judged now; this turn's frames, at its end (`flushed`).
      const unsent = stream.writableCorked === 0 ? stream.writableLength : 0
      const compress = frame.length >= this.output.deflateMinBytes
      writeBatch.write(stream, compress ? out.compressed() : out.plain(), this)
      out.wrote(compress, this.output.sent)
      if (unsent > this.maxBufferedBytes) this.slow()
    } else if (socket.readyState === OPEN) {
      socket.send(frame, SEND_OPTS)
      out.wrote(false, this.output.sent)
      if (socket.bufferedAmount > this.maxBufferedBytes) this.slow()
    }
  }

  /**
   * The turn's frames were handed to the kernel, which took what the reader left room for. A
   * `since` replay or a `history` answer is written in one turn: it counts here like any frame,
   * so a client that does not read is cut off instead of pinning all of it in our memory.
   */
  flushed (stream: Writable): void {
    if (stream.writableLength > this.maxBufferedBytes) this.slow()
  }

  /** A client that reads slower than its rooms talk would grow our memory without bound. */
  slow (): void {
    this.close(CloseCode.TRY_AGAIN_LATER, 'slow consumer')
  }

  /** Serialises a reply meant for this connection only. */
  sendJson (frame: object): void {
    this.send(Buffer.from(JSON.stringify(frame)))
  }

  /** Sends `welcome` first, then whatever was published to the socket's rooms meanwhile. */
  welcome (frame: object): void {
    const held = this.backlog ?? []
    this.backlog = null
    this.sendJson(frame)
    for (const buffered of held) this.send(buffered)
  }

  close (code: number, reason: string): void {
    if (!this.open) return
    this.socket.close(code, reason)
    this.onServerClose(this, code)
  }
}
