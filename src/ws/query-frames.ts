/**
 * The frames of one socket that read a room without being in it: `history` (its stored messages)
 * and `presence` (who is in it, on every instance). Each needs the room to be one the connection
 * may join; the feature switch is checked first, as the HTTP routes do (404 before 403).
 */
import { ErrorCode } from '../protocol.js'
import type { Connection } from '../hub/connection.js'
import type { Hub } from '../hub/hub.js'
import { mayJoin } from '../hub/principal.js'
import type { FrameId } from '../schemas/frames.js'
import { HISTORY_OFF, readHistory } from '../history/read-history.js'
import { PRESENCE_DISABLED, readPresence } from '../presence/read-presence.js'
import type { SendError } from './send-error.js'

export class QueryFrames {
  constructor (
    private readonly hub: Hub,
    private readonly conn: Connection,
    private readonly error: SendError
  ) {}

  history (room: string, limit: number | undefined, before: number | undefined, id: FrameId | undefined): void {
    if (!this.hub.historyEnabled) return this.error(ErrorCode.HISTORY_DISABLED, HISTORY_OFF, id)
    if (!mayJoin(this.conn.principal, room)) return this.error(ErrorCode.FORBIDDEN, `not allowed to read "${room}"`, id)
    readHistory(this.hub.historyStore, room, limit, before).then(page => {
      if (!page.ok) return this.error(page.code, page.message, id)
      const head = JSON.stringify({ type: 'history', room, id, epoch: page.epoch, offset: page.offset })
      this.conn.send(page.body(head))
    })
  }

  presence (room: string, id: FrameId | undefined): void {
    if (this.hub.presence === null) return this.error(PRESENCE_DISABLED.code, PRESENCE_DISABLED.message, id)
    if (!mayJoin(this.conn.principal, room)) return this.error(ErrorCode.FORBIDDEN, `not allowed to read "${room}"`, id)
    readPresence(this.hub.presence, room).then(page => {
      if (!page.ok) return this.error(page.code, page.message, id)
      this.conn.send(Buffer.from(page.body('{"type":"presence",', id)))
    })
  }
}
