/**
 * The life of one socket after the upgrade: reads client frames, answers each, and keeps them in
 * order. A `join` waits for the broker; frames that arrive meanwhile are held and handled after
 * it, so `join` then `message` to that room works without waiting for `joined`.
 *
 * The frames themselves are handled by room-frames.ts (join, leave, message, broadcast),
 * query-frames.ts (history, presence), token-refresh.ts (refresh) and src/read-state/ (read,
 * unread); limits.ts holds the socket's budgets, frame-head.ts reads and checks a frame.
 */
import type { RawData } from 'ws'
import { CloseCode, ErrorCode } from '../protocol.js'
import type { Connection } from '../hub/connection.js'
import type { Hub } from '../hub/hub.js'
import type { FrameId } from '../schemas/frames.js'
import type { TokenExpiry } from './token-refresh.js'
import type { ReadFrames } from '../read-state/read-frames.js'
import type { Hooks } from '../hooks/hooks.js'
import { PublishGate } from '../hooks/publish-gate.js'
import { checkHead, readHead } from './frame-head.js'
import { SocketBudget, type SessionLimits } from './limits.js'
import { QueryFrames } from './query-frames.js'
import { RoomFrames } from './room-frames.js'
import type { SendError } from './send-error.js'

/**
 * Bytes a client may have queued behind a pending join before it is cut off. The socket stops
 * reading while frames are held, so a client gets here only by what one read already carried:
 * a few tens of KB. The bound is for anything else.
 */
const MAX_HELD_BYTES = 4 * 1024 * 1024

export class Session {
  /** Non-null while an async step (a join) runs: frames wait here, in order. */
  private held: Buffer[] | null = null
  private heldBytes = 0
  private readonly budget: SocketBudget
  /** Null unless a publish hook is on: then every room message of the socket waits for its decision, in order per room. */
  private readonly gate: PublishGate | null

  constructor (
    private readonly hub: Hub,
    readonly conn: Connection,
    private readonly limits: SessionLimits,
    /** Told of a frame whose handling threw: a bug, since bad input gets an error frame. */
    private readonly onUnexpected: (err: unknown) => void = () => {},
    /** Handles `refresh` frames; null: answered with `exp: null`, as with auth off. */
    private readonly tokens: TokenExpiry | null = null,
    /** The join and publish hooks; null or off: frames take their usual path, at no cost. */
    private readonly hooks: Hooks | null = null,
    /** Handles `read` and `unread` frames (src/read-state/); null: refused as with auth off. */
    private readonly reads: ReadFrames | null = null
  ) {
    this.budget = new SocketBudget(limits)
    this.gate = hooks?.publishOn === true ? new PublishGate(hooks, onUnexpected) : null
  }

  // The frame handlers, and the function that answers an error, are made for each frame that needs
  // them rather than kept for the socket's life: most sockets send few frames and idle long.
  private get rooms (): RoomFrames {
    return new RoomFrames(this.hub, this.conn, this.budget, this.error, this.hooks, this.gate, this.reads)
  }

  private get queries (): QueryFrames {
    return new QueryFrames(this.hub, this.conn, this.error)
  }

  private get error (): SendError {
    return (code, message, id, reason) => {
      this.hub.observer?.errorSent(code)
      this.conn.sendJson({ type: 'error', code, message, reason, id })
    }
  }

  /** The `message` listener of the socket. */
  receive (data: RawData, isBinary: boolean): void {
    if (isBinary) return this.conn.close(CloseCode.UNSUPPORTED_DATA, 'binary frames are not accepted')
    const frame = data as Buffer // text frames arrive as one Buffer (ws default binaryType)
    // ws enforces this through maxPayload when chat-api owns the ws server; an embedding host's
    // server may allow more, so the bound is checked here too.
    if (frame.length > this.limits.maxMessageBytes) {
      return this.conn.close(CloseCode.MESSAGE_TOO_BIG, 'frame too large')
    }
    if (this.held !== null) {
      this.heldBytes += frame.length
      if (this.heldBytes > MAX_HELD_BYTES) return this.conn.close(CloseCode.POLICY_VIOLATION, 'too many frames in flight')
      this.held.push(frame)
      return
    }
    const pending = this.dispatch(frame)
    if (pending) this.holdUntil(pending)
  }

  /**
   * Holds incoming frames until `step` settles (a join, or the URL rooms before `welcome`). The
   * socket stops reading meanwhile: TCP, not our memory, holds what the client sends next.
   */
  holdUntil (step: Promise<void>): void {
    if (this.held === null) {
      this.held = []
      this.heldBytes = 0
      this.conn.socket.pause()
    }
    this.releaseAfter(step)
  }

  /** Made for each step rather than kept per socket: most sockets hold frames only at their start. */
  private releaseAfter (step: Promise<void>): void {
    const release = (): void => this.release()
    // then(f, f), not finally: a step that ever rejected must not become an unhandled rejection.
    step.then(release, release)
  }

  private release (): void {
    const held = this.held ?? []
    this.held = null
    for (let i = 0; i < held.length; i++) {
      const pending = this.dispatch(held[i])
      if (pending) {
        this.held = held.slice(i + 1)
        this.heldBytes = this.held.reduce((bytes, frame) => bytes + frame.length, 0)
        this.releaseAfter(pending)
        return
      }
    }
    this.conn.socket.resume()
  }

  /** `handle`, with a last guard: no frame may throw out of the socket's event handler. */
  private dispatch (raw: Buffer): Promise<void> | void {
    try {
      return this.handle(raw)
    } catch (err) {
      this.onUnexpected(err)
      this.error(ErrorCode.BAD_FRAME, 'the frame could not be handled', undefined)
    }
  }

  /** Returns a promise only when the frame started an async step that later frames must wait for. */
  private handle (raw: Buffer): Promise<void> | void {
    if (!this.conn.open) return
    const head = readHead(raw)
    const id = head.id
    this.hub.observer?.frameReceived(head.label)
    const over = this.budget.takeFrame()
    if (over === 'cut off') return this.conn.close(CloseCode.POLICY_VIOLATION, 'rate limit abuse')
    if (over === 'refuse') return this.error(ErrorCode.RATE_LIMITED, this.budget.frameLimitMessage, id)
    const check = checkHead(head)
    if (!check.ok) return this.error(check.code, check.message, id)

    const valid = check.frame
    switch (valid.type) {
      case 'join': return this.rooms.join(valid.room, valid.since ?? null, id)
      case 'leave': return this.rooms.leave(valid.room, id)
      case 'message': return this.rooms.message(valid.room, valid.data, valid.key, valid.transient === true, id)
      case 'broadcast': return this.rooms.broadcast(valid.data, id)
      case 'ping': return this.conn.sendJson({ type: 'pong', id })
      case 'history': return this.queries.history(valid.room, valid.limit, valid.before, id)
      case 'refresh': return this.refresh(valid.token, id)
      case 'presence': return this.queries.presence(valid.room, id)
      case 'read': return this.reads === null ? this.error(ErrorCode.UNAUTHORIZED, 'read state is off', id) : this.reads.read(this.conn, valid, id, this.error)
      case 'unread': return this.reads === null ? this.error(ErrorCode.UNAUTHORIZED, 'read state is off', id) : this.reads.unread(this.conn, valid, id, this.error)
    }
  }

  private refresh (token: string, id: FrameId | undefined): void {
    const outcome = this.tokens?.refresh(this.conn, token) ?? { ok: true, exp: null }
    if (!outcome.ok) return this.error(outcome.code, outcome.message, id)
    this.conn.sendJson({ type: 'refreshed', exp: outcome.exp, id })
  }
}
