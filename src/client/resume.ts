/**
 * How the client gets back into its rooms without losing a message. It remembers the last position
 * (epoch, offset) of each room, from `joined` and from every stored message, and rejoins with
 * `since` after each reconnect: the server replays what was missed, and its `joined` says whether
 * it could (`recovered`) or not (`gap`: reload). A live message of another epoch is a `gap` too:
 * the room's history was lost while the socket stayed open. What it promises: docs/client.md.
 */
import { ChatError } from './errors.js'
import type { RequestFrame } from './requests.js'
import type { ChatClientEvents, JoinedFrame, MessageFrame, RoomPosition, ServerFrame } from './types.js'

/** The events the resume tells of. */
type ResumeEvent = 'recovered' | 'gap' | 'error'

/** What the resume needs of its client. */
export interface ResumeHost {
  /** The rooms the client wants to be in: joined now, or rejoined on the next connection. */
  readonly rooms: Set<string>
  /** The last position seen in each room (history on): a rejoin asks for what came after it. */
  readonly positions: Map<string, RoomPosition>
  /** Queues a request; `first`: written ahead of the others (a rejoin: the sends to its room need it first). */
  request: (frame: RequestFrame, first: boolean) => Promise<ServerFrame>
  emit: <K extends ResumeEvent>(event: K, payload: ChatClientEvents[K]) => void
}

export class Resume {
  /** Joins asked for while disconnected, by room: they stand for the room's rejoin at the next `welcome`. */
  private readonly queuedJoins = new Map<string, Promise<unknown>>()

  constructor (private readonly host: ResumeHost) {}

  /**
   * A join the application asked for; the room stays wanted until `forget`. One asked for while
   * disconnected (`connected` false) is written at the next `welcome`, in place of the automatic
   * rejoin of the room: asking twice would get a second `joined`, recovered:false, and a gap that
   * did not happen.
   */
  join (room: string, since: RoomPosition | undefined, connected: boolean): Promise<JoinedFrame> {
    this.host.rooms.add(room)
    const joined = this.joinRoom(room, since, false)
    if (!connected) {
      const settled = joined.then(() => {}, () => {})
      this.queuedJoins.set(room, settled)
      settled.then(() => { if (this.queuedJoins.get(room) === settled) this.queuedJoins.delete(room) })
    }
    return joined
  }

  /** The room is no longer wanted: not rejoined, its position forgotten. False when it was not wanted. */
  forget (room: string): boolean {
    const wanted = this.host.rooms.delete(room)
    this.host.positions.delete(room)
    return wanted
  }

  /**
   * After a `welcome` that put the socket in `inRooms`: rejoins every other wanted room, each from
   * its last position and ahead of what was queued. `takenOver` are the rooms whose join, asked for
   * while disconnected, is written now and stands for their rejoin. Settles when all are answered;
   * a refused rejoin is an `error` event.
   */
  rejoin (inRooms: string[], takenOver: Set<string>): Promise<unknown> {
    const missing = [...this.host.rooms].filter(room => !inRooms.includes(room) && !takenOver.has(room))
    const rejoins: Array<Promise<unknown>> = missing.map(room => this.joinRoom(room, undefined, true).then(() => undefined, (err: ChatError) => {
      if (err.frame !== undefined) this.host.emit('error', err)
    }))
    for (const room of takenOver) rejoins.push(this.queuedJoins.get(room) ?? Promise.resolve())
    return Promise.all(rejoins)
  }

  /** A `joined` frame: where the room stands. Taken here, not when the join's promise settles: messages after `joined` may already be read. */
  joined (frame: JoinedFrame): void {
    if (frame.offset !== undefined && frame.epoch !== undefined) this.host.positions.set(frame.room, { offset: frame.offset, epoch: frame.epoch })
  }

  /** A live message: its position is the room's now. Call it before the message is handed on. */
  message (frame: MessageFrame): void {
    if (frame.offset === undefined || frame.epoch === undefined) return
    // Another epoch on a live message: the room's history was lost (Redis restarted empty, a
    // failover that lost writes) and messages may be missing between, as after a `gap` rejoin.
    const last = this.host.positions.get(frame.room)
    this.host.positions.set(frame.room, { offset: frame.offset, epoch: frame.epoch })
    if (last !== undefined && last.epoch !== frame.epoch) this.host.emit('gap', { room: frame.room, offset: frame.offset, epoch: frame.epoch })
  }

  /** A join request (`first`: ahead of the queue, for a rejoin) and what its answer says about the room's history. */
  private async joinRoom (room: string, sinceOpt: RoomPosition | undefined, first: boolean): Promise<JoinedFrame> {
    const since = sinceOpt ?? this.host.positions.get(room)
    try {
      const joined = await this.host.request(since === undefined ? { type: 'join', room } : { type: 'join', room, since }, first) as JoinedFrame
      if (joined.epoch !== undefined && joined.offset !== undefined) {
        if (joined.recovered !== undefined) {
          this.host.emit(joined.recovered ? 'recovered' : 'gap', { room, offset: joined.offset, epoch: joined.epoch })
        }
      } else if (since !== undefined) {
        // The server could not say where the room stands (its Redis is down): nothing was replayed.
        this.host.positions.delete(room)
        this.host.emit('gap', { room, offset: since.offset, epoch: since.epoch })
      }
      return joined
    } catch (err) {
      // Refused by the server: no use retrying it on every reconnect.
      if (err instanceof ChatError && err.frame !== undefined) this.host.rooms.delete(room)
      throw err
    }
  }
}
