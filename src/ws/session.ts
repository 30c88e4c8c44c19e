/**
 * The life of one socket after the upgrade: reads client frames, answers each, and keeps them in
 * order. A `join` waits for the broker; frames that arrive meanwhile are held and handled after
 * it, so `join` then `message` to that room works without waiting for `joined`.
 */
import type { RawData } from 'ws'
import { CloseCode, ErrorCode } from '../protocol.js'
import type { Connection } from '../hub/connection.js'
import type { Hub } from '../hub/hub.js'
import { mayJoin } from '../hub/principal.js'
import { TokenBucket } from '../hub/token-bucket.js'
import type { Position } from '../history/history-store.js'
import type { FrameId } from '../schemas/frames.js'
import { checkFrame, isFrameType } from './frame-validators.js'
import { HISTORY_OFF, readHistory } from '../history/read-history.js'
import { PRESENCE_DISABLED, readPresence } from '../presence/read-presence.js'
import type { TokenExpiry } from './token-refresh.js'
import type { ReadFrames } from '../read-state/read-frames.js'
import { serialiseData, TOO_DEEP } from '../serialise-data.js'
import type { Hooks } from '../hooks/hooks.js'
import { MAX_PENDING_PUBLISHES, PublishGate } from '../hooks/publish-gate.js'
import type { Decision } from '../hooks/types.js'

export interface SessionLimits {
  maxMessageBytes: number
  maxRooms: number
  /** 0 turns the limit off. */
  ratePerSec: number
  /** Joins and leaves a second (WS_JOIN_RATE_PER_SEC); 0 turns the limit off. */
  joinRatePerSec: number
}

/**
 * Bytes a client may have queued behind a pending join before it is cut off. The socket stops
 * reading while frames are held, so a client gets here only by what one read already carried:
 * a few tens of KB. The bound is for anything else.
 */
const MAX_HELD_BYTES = 4 * 1024 * 1024
const TYPE_ECHO_CHARS = 64

export class Session {
  /** Non-null while an async step (a join) runs: frames wait here, in order. */
  private held: Buffer[] | null = null
  private heldBytes = 0
  private readonly bucket: TokenBucket | null
  /**
   * Joins and leaves that change membership: each one sends a member event to every member of the
   * room, so one socket must not make them at will. It holds a whole connection's rooms at least,
   * so a client that reconnects can rejoin all of them at once.
   */
  private readonly joinBudget: TokenBucket | null
  private rejectedInWindow = 0
  private windowStart = 0
  /** The `from` of every message this connection sends, serialised once for its lifetime. */
  private readonly fromJson: string
  /** Null unless a publish hook is on: then every room message waits for its decision, in order per room. */
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
    this.bucket = limits.ratePerSec > 0 ? new TokenBucket(limits.ratePerSec) : null
    const joinRate = limits.joinRatePerSec
    this.joinBudget = joinRate > 0 ? new TokenBucket(joinRate, performance.now(), Math.max(2 * joinRate, limits.maxRooms)) : null
    this.fromJson = JSON.stringify({ connectionId: conn.id, user: conn.principal.user })
    this.gate = hooks?.publishOn === true ? new PublishGate(hooks, onUnexpected) : null
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
    // then(f, f), not finally: a step that ever rejected must not become an unhandled rejection.
    step.then(this.releaseHeld, this.releaseHeld)
  }

  private readonly releaseHeld = (): void => this.release()

  private release (): void {
    const held = this.held ?? []
    this.held = null
    for (let i = 0; i < held.length; i++) {
      const pending = this.dispatch(held[i])
      if (pending) {
        this.held = held.slice(i + 1)
        this.heldBytes = this.held.reduce((bytes, frame) => bytes + frame.length, 0)
        pending.then(this.releaseHeld, this.releaseHeld)
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
    let frame: unknown
    let parsed = true
    try {
      frame = JSON.parse(raw.toString('utf8'))
    } catch {
      parsed = false
    }
    const isObject = typeof frame === 'object' && frame !== null && !Array.isArray(frame)
    const record = frame as Record<string, unknown>
    const rawId = isObject ? record.id : undefined
    // 1e400 is JSON but Infinity here, which would echo as null: not an id we can give back.
    const id = typeof rawId === 'string' || (typeof rawId === 'number' && Number.isFinite(rawId)) ? rawId : undefined
    this.hub.observer?.frameReceived(isObject && typeof record.type === 'string' && isFrameType(record.type) ? record.type : 'invalid')

    if (this.bucket !== null && !this.bucket.take()) return this.rateLimited(id)
    if (!parsed) return this.error(ErrorCode.BAD_JSON, 'frame is not valid JSON', id)
    if (!isObject) return this.error(ErrorCode.BAD_FRAME, 'a frame is a JSON object', id)
    const type = record.type
    if (typeof type !== 'string') return this.error(ErrorCode.BAD_FRAME, 'type must be a string', id)
    if (!isFrameType(type)) {
      return this.error(ErrorCode.UNKNOWN_TYPE, `unknown frame type "${type.slice(0, TYPE_ECHO_CHARS)}"`, id)
    }
    const check = checkFrame(type, record)
    if (!check.ok) return this.error(check.code, check.message, id)

    const valid = check.frame
    switch (valid.type) {
      case 'join': return this.join(valid.room, valid.since ?? null, id)
      case 'leave': return this.leave(valid.room, id)
      case 'message': return this.message(valid.room, valid.data, valid.key, valid.transient === true, id)
      case 'broadcast': return this.broadcast(valid.data, id)
      case 'ping': return this.conn.sendJson({ type: 'pong', id })
      case 'history': return this.history(valid.room, valid.limit, valid.before, id)
      case 'refresh': return this.refresh(valid.token, id)
      case 'presence': return this.presence(valid.room, id)
      case 'read': return this.reads === null ? this.error(ErrorCode.UNAUTHORIZED, 'read state is off', id) : this.reads.read(this.conn, valid, id, this.refuse)
      case 'unread': return this.reads === null ? this.error(ErrorCode.UNAUTHORIZED, 'read state is off', id) : this.reads.unread(this.conn, valid, id, this.refuse)
    }
  }

  private join (room: string, since: Position | null, id: FrameId | undefined): Promise<void> | void {
    const conn = this.conn
    if (!mayJoin(conn.principal, room)) return this.error(ErrorCode.FORBIDDEN, `not allowed to join "${room}"`, id)
    if (!conn.rooms.has(room) && conn.rooms.size >= this.limits.maxRooms) {
      return this.error(ErrorCode.TOO_MANY_ROOMS, `a connection may be in at most ${this.limits.maxRooms} rooms`, id)
    }
    if (!conn.rooms.has(room) && !this.mayChangeRooms()) return this.joinsLimited(id)
    // A room already joined was allowed already: only a new one asks the hook. Later frames wait
    // behind the hook as they wait behind the join itself (at most HOOK_TIMEOUT_MS more).
    if (this.hooks?.joinOn === true && !conn.rooms.has(room)) {
      return this.hooks.decide('join', { room, user: conn.principal.user, connectionId: conn.id }).then(decision => {
        if (!decision.allow) return this.refused(decision, `not allowed to join "${room}"`, id)
        if (conn.open) return this.hubJoin(room, since, id)
      })
    }
    return this.hubJoin(room, since, id)
  }

  private hubJoin (room: string, since: Position | null, id: FrameId | undefined): Promise<void> {
    const conn = this.conn
    return this.hub.join(conn, room, since, (start, recovered) => {
      conn.sendJson({ type: 'joined', room, id, offset: start?.offset, epoch: start?.epoch, recovered })
    })
  }

  private leave (room: string, id: FrameId | undefined): void {
    if (this.conn.rooms.has(room) && !this.mayChangeRooms()) return this.joinsLimited(id)
    if (!this.hub.leave(this.conn, room)) return this.error(ErrorCode.NOT_IN_ROOM, `not in room "${room}"`, id)
    this.conn.sendJson({ type: 'left', room, id })
  }

  private message (room: string, data: unknown, key: string | undefined, transient: boolean, id: FrameId | undefined): void {
    if (!this.conn.rooms.has(room)) return this.error(ErrorCode.NOT_IN_ROOM, `join "${room}" before sending to it`, id)
    const dataJson = serialiseData(data)
    if (dataJson === null) return this.error(ErrorCode.BAD_FRAME, TOO_DEEP, id)
    if (this.gate !== null) return this.gated(this.gate, room, data, dataJson, key, transient, id)
    this.publish(room, dataJson, key, transient, id)
  }

  /** The publish hook decides first; a rewrite's `data` is what gets numbered, stored and delivered. */
  private gated (gate: PublishGate, room: string, data: unknown, dataJson: string, key: string | undefined, transient: boolean, id: FrameId | undefined): void {
    const input = { room, user: this.conn.principal.user, connectionId: this.conn.id, data, transient }
    const submitted = gate.submit(input, dataJson, decision => {
      if (!decision.allow) return this.refused(decision, 'the publish hook refused the message: nothing was stored or delivered', id)
      this.publish(room, decision.data ?? dataJson, key, transient, id)
    })
    if (!submitted) this.error(ErrorCode.RATE_LIMITED, `too many messages (${MAX_PENDING_PUBLISHES}, or their bytes) wait on the publish hook; the message was dropped`, id)
  }

  private publish (room: string, dataJson: string, key: string | undefined, transient: boolean, id: FrameId | undefined): void {
    this.hub.sendToRoom(room, dataJson, this.fromJson, { key, transient }).then(outcome => {
      if (!outcome.ok) return this.error(outcome.code, outcome.message, id)
      this.hub.observer?.published(transient ? 'transient' : 'room')
      if (outcome.offset !== undefined && outcome.epoch !== undefined) this.reads?.stored(this.conn, room, { offset: outcome.offset, epoch: outcome.epoch })
      if (id !== undefined) this.conn.sendJson({ type: 'ack', id, messageId: outcome.messageId, offset: outcome.offset, epoch: outcome.epoch })
    })
  }

  private broadcast (data: unknown, id: FrameId | undefined): void {
    if (!this.conn.principal.canBroadcast) return this.error(ErrorCode.FORBIDDEN, 'broadcast needs the chat:broadcast scope', id)
    const dataJson = serialiseData(data)
    if (dataJson === null) return this.error(ErrorCode.BAD_FRAME, TOO_DEEP, id)
    const messageId = this.hub.sendToAll(dataJson, this.fromJson)
    this.hub.observer?.published('broadcast')
    if (id !== undefined) this.conn.sendJson({ type: 'ack', id, messageId })
  }

  /** The stored messages of a room the connection may join; membership is not needed. */
  private history (room: string, limit: number | undefined, before: number | undefined, id: FrameId | undefined): void {
    // The feature switch first, as the HTTP route does (404 before 403).
    if (!this.hub.historyEnabled) return this.error(ErrorCode.HISTORY_DISABLED, HISTORY_OFF, id)
    if (!mayJoin(this.conn.principal, room)) return this.error(ErrorCode.FORBIDDEN, `not allowed to read "${room}"`, id)
    readHistory(this.hub, room, limit, before).then(page => {
      if (!page.ok) return this.error(page.code, page.message, id)
      const head = JSON.stringify({ type: 'history', room, id, epoch: page.epoch, offset: page.offset })
      this.conn.send(page.body(head))
    })
  }

  /** Who is in a room the connection may join, on every instance; membership is not needed. */
  private presence (room: string, id: FrameId | undefined): void {
    // The feature switch first, as the HTTP route does (404 before 403).
    if (this.hub.presence === null) return this.error(PRESENCE_DISABLED.code, PRESENCE_DISABLED.message, id)
    if (!mayJoin(this.conn.principal, room)) return this.error(ErrorCode.FORBIDDEN, `not allowed to read "${room}"`, id)
    readPresence(this.hub, room).then(page => {
      if (!page.ok) return this.error(page.code, page.message, id)
      this.conn.send(Buffer.from(page.body('{"type":"presence",', id)))
    })
  }

  /**
   * Over the limit: answer `rate_limited`, and cut off a client that keeps sending at several times
   * the limit (more refusals within a second than the bucket holds).
   */
  private rateLimited (id: FrameId | undefined): void {
    const now = performance.now()
    if (now - this.windowStart >= 1000) {
      this.windowStart = now
      this.rejectedInWindow = 0
    }
    if (++this.rejectedInWindow > this.limits.ratePerSec * 2) {
      return this.conn.close(CloseCode.POLICY_VIOLATION, 'rate limit abuse')
    }
    this.error(ErrorCode.RATE_LIMITED, `more than ${this.limits.ratePerSec} frames per second`, id)
  }

  private mayChangeRooms (): boolean {
    return this.joinBudget === null || this.joinBudget.take()
  }

  private joinsLimited (id: FrameId | undefined): void {
    this.error(ErrorCode.RATE_LIMITED, `more than ${this.limits.joinRatePerSec} joins and leaves per second`, id)
  }

  private refresh (token: string, id: FrameId | undefined): void {
    const outcome = this.tokens?.refresh(this.conn, token) ?? { ok: true, exp: null }
    if (!outcome.ok) return this.error(outcome.code, outcome.message, id)
    this.conn.sendJson({ type: 'refreshed', exp: outcome.exp, id })
  }

  /** A hook's refusal: its own code and `reason`, or `unavailable` when it failed closed. */
  private refused (decision: Exclude<Decision, { allow: true }>, message: string, id: FrameId | undefined): void {
    if (decision.code === 'unavailable') return this.error(ErrorCode.UNAVAILABLE, decision.reason, id)
    this.error(decision.code, message, id, decision.reason)
  }

  private readonly refuse = (code: ErrorCode, message: string, id: FrameId | undefined): void => this.error(code, message, id)

  private error (code: ErrorCode, message: string, id: FrameId | undefined, reason?: string): void {
    this.hub.observer?.errorSent(code)
    this.conn.sendJson({ type: 'error', code, message, reason, id })
  }
}
