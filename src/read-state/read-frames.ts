/**
 * The `read` and `unread` frames of one instance, and the cursor move of a user's own stored
 * message; kept out of session.ts, which hands them the frame and a way to refuse it.
 */
import type { Connection } from '../hub/connection.js'
import { mayJoin } from '../hub/principal.js'
import type { Position } from '../history/history-store.js'
import { ErrorCode } from '../protocol.js'
import type { FrameId } from '../schemas/frames.js'
import type { ReadRequestFrame, UnreadRequestFrame } from '../schemas/read-state.js'
import type { ReadState } from './read-state.js'

export type Refuse = (code: ErrorCode, message: string, id: FrameId | undefined) => void

const AUTH_OFF = 'read state needs a user: auth is off (AUTH_ENABLED=false)'
const HISTORY_OFF = 'read state needs offsets: history is off (HISTORY_SIZE=0)'

export class ReadFrames {
  constructor (
    /** Null: history is off. */
    private readonly state: ReadState | null
  ) {}

  read (conn: Connection, frame: ReadRequestFrame, id: FrameId | undefined, refuse: Refuse): void {
    const user = conn.principal.user
    if (user === null) return refuse(ErrorCode.UNAUTHORIZED, AUTH_OFF, id)
    if (this.state === null) return refuse(ErrorCode.HISTORY_DISABLED, HISTORY_OFF, id)
    const { room, offset } = frame
    if (!mayJoin(conn.principal, room)) return refuse(ErrorCode.FORBIDDEN, `not allowed to read "${room}"`, id)
    this.state.read(user, room, offset).then(outcome => {
      if (!outcome.ok) return refuse(outcome.code, outcome.message, id)
      conn.sendJson({ type: 'read', room, offset: outcome.cursor.offset, epoch: outcome.cursor.epoch, id })
    })
  }

  unread (conn: Connection, frame: UnreadRequestFrame, id: FrameId | undefined, refuse: Refuse): void {
    const user = conn.principal.user
    if (user === null) return refuse(ErrorCode.UNAUTHORIZED, AUTH_OFF, id)
    if (this.state === null) return refuse(ErrorCode.HISTORY_DISABLED, HISTORY_OFF, id)
    const principal = conn.principal
    const named = frame.rooms === undefined ? null : [...new Set(frame.rooms)]
    const refused = named?.find(room => !mayJoin(principal, room))
    if (refused !== undefined) return refuse(ErrorCode.FORBIDDEN, `not allowed to read "${refused}"`, id)
    this.state.unread(user, named, room => mayJoin(principal, room)).then(outcome => {
      if (!outcome.ok) return refuse(outcome.code, outcome.message, id)
      conn.sendJson({ type: 'unread', rooms: outcome.rooms, id })
    })
  }

  /** The connection's message was stored at `position`: its user has read up to there. */
  stored (conn: Connection, room: string, position: Position): void {
    const user = conn.principal.user
    if (user !== null && this.state !== null) this.state.ownMessage(user, room, position)
  }
}
