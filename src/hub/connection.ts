/**
 * One client socket as the hub sees it: who it is, which rooms it is in, and a `send` that enforces
 * the slow-consumer bound. Outgoing frames are Buffers serialised once per message by the caller.
 */
import type { WebSocket } from 'ws'
import { CloseCode } from '../protocol.js'
import type { Principal } from './principal.js'

// Text frame, no compression: the payload Buffer is written as is, never copied per recipient.
const SEND_OPTS = { binary: false, compress: false } as const
const OPEN = 1

export class Connection {
  readonly rooms = new Set<string>()
  /** Cleared by each heartbeat, set by each pong; still false at the next beat means dead. */
  alive = true
  /** Frames held until `welcome` is sent, so that `welcome` is always the first frame. */
  private backlog: Buffer[] | null = []

  constructor (
    readonly id: string,
    readonly socket: WebSocket,
    readonly principal: Principal,
    private readonly maxBufferedBytes: number
  ) {}

  get open (): boolean {
    return this.socket.readyState === OPEN
  }

  send (frame: Buffer): void {
    if (this.backlog !== null) {
      this.backlog.push(frame)
      return
    }
    const socket = this.socket
    if (socket.readyState !== OPEN) return
    socket.send(frame, SEND_OPTS)
    // A client that reads slower than its rooms talk would grow our memory without bound.
    if (socket.bufferedAmount > this.maxBufferedBytes) {
      this.close(CloseCode.TRY_AGAIN_LATER, 'slow consumer')
    }
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
    if (this.socket.readyState === OPEN) this.socket.close(code, reason)
  }
}
