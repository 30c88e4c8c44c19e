/**
 * The frames of one socket that use rooms: `join` (the join hook asked first when it is on),
 * `leave`, `message` (through the publish hook when it is on) and `broadcast`. A join that reaches
 * the hub returns its promise: the session holds the socket's later frames until it settles.
 */
import { ErrorCode } from '../protocol.js'
import type { Connection } from '../hub/connection.js'
import type { Hub } from '../hub/hub.js'
import { mayJoin } from '../hub/principal.js'
import type { Position } from '../history/history-store.js'
import type { FrameId } from '../schemas/frames.js'
import type { ReadFrames } from '../read-state/read-frames.js'
import { serialiseData, TOO_DEEP } from '../serialise-data.js'
import type { Hooks } from '../hooks/hooks.js'
import { MAX_PENDING_PUBLISHES, type PublishGate } from '../hooks/publish-gate.js'
import type { Decision } from '../hooks/types.js'
import type { SendError } from './send-error.js'
import type { SocketBudget } from './limits.js'

export class RoomFrames {
  /**
   * Made for each frame, not kept per socket (an idle socket should cost little): the socket's
   * state is in what it is given. `gate`: null unless a publish hook is on, and then the
   * socket's one gate, through which every room message waits for its decision, in order per room.
   */
  constructor (
    private readonly hub: Hub,
    private readonly conn: Connection,
    private readonly budget: SocketBudget,
    private readonly error: SendError,
    /** The join and publish hooks; null or off: frames take their usual path, at no cost. */
    private readonly hooks: Hooks | null,
    private readonly gate: PublishGate | null,
    /** Told of each message stored, for the sender's own read cursor; null with read state off. */
    private readonly reads: ReadFrames | null
  ) {}

  join (room: string, since: Position | null, id: FrameId | undefined): Promise<void> | void {
    const conn = this.conn
    const { maxRooms } = this.budget.limits
    if (!mayJoin(conn.principal, room)) return this.error(ErrorCode.FORBIDDEN, `not allowed to join "${room}"`, id)
    if (!conn.rooms.has(room) && conn.rooms.size >= maxRooms) {
      return this.error(ErrorCode.TOO_MANY_ROOMS, `a connection may be in at most ${maxRooms} rooms`, id)
    }
    if (!conn.rooms.has(room) && !this.budget.mayChangeRooms()) return this.joinsLimited(id)
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

  leave (room: string, id: FrameId | undefined): void {
    if (this.conn.rooms.has(room) && !this.budget.mayChangeRooms()) return this.joinsLimited(id)
    if (!this.hub.leave(this.conn, room)) return this.error(ErrorCode.NOT_IN_ROOM, `not in room "${room}"`, id)
    this.conn.sendJson({ type: 'left', room, id })
  }

  message (room: string, data: unknown, key: string | undefined, transient: boolean, id: FrameId | undefined): void {
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
    this.hub.sendToRoom(room, dataJson, this.conn.identityJson, { key, transient }).then(outcome => {
      if (!outcome.ok) return this.error(outcome.code, outcome.message, id)
      this.hub.observer?.published(transient ? 'transient' : 'room')
      if (outcome.offset !== undefined && outcome.epoch !== undefined) this.reads?.stored(this.conn, room, { offset: outcome.offset, epoch: outcome.epoch })
      if (id !== undefined) this.conn.sendJson({ type: 'ack', id, messageId: outcome.messageId, offset: outcome.offset, epoch: outcome.epoch })
    })
  }

  broadcast (data: unknown, id: FrameId | undefined): void {
    if (!this.conn.principal.canBroadcast) return this.error(ErrorCode.FORBIDDEN, 'broadcast needs the chat:broadcast scope', id)
    const dataJson = serialiseData(data)
    if (dataJson === null) return this.error(ErrorCode.BAD_FRAME, TOO_DEEP, id)
    const messageId = this.hub.sendToAll(dataJson, this.conn.identityJson)
    this.hub.observer?.published('broadcast')
    if (id !== undefined) this.conn.sendJson({ type: 'ack', id, messageId })
  }

  private joinsLimited (id: FrameId | undefined): void {
    this.error(ErrorCode.RATE_LIMITED, this.budget.joinLimitMessage, id)
  }

  /** A hook's refusal: its own code and `reason`, or `unavailable` when it failed closed. */
  private refused (decision: Exclude<Decision, { allow: true }>, message: string, id: FrameId | undefined): void {
    if (decision.code === 'unavailable') return this.error(ErrorCode.UNAVAILABLE, decision.reason, id)
    this.error(decision.code, message, id, decision.reason)
  }
}
