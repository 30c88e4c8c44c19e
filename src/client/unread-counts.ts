/**
 * Live unread counts of this client's user: the `unread` answer, then kept current without a
 * round trip per message. A room's count is its top minus the user's cursor:
 * - a message of a room moves its top (another epoch: the history was lost, so the cursor counts
 *   as 0 again, as the server counts it);
 * - the user's own message moves the cursor to it (the server does the same);
 * - a `read_receipt` of the user (this socket's or another's) moves the cursor forward.
 * Events come only for rooms this socket has joined, so the counts are read again after each
 * reconnect, and `refresh()` reads them whenever the application wants.
 *
 *   const counts = new UnreadCounts(chat)
 *   counts.on('change', rooms => renderBadges(rooms))
 *   await counts.refresh()
 */
import type { ChatClient } from './chat-client.js'
import { TypedEmitter } from './emitter.js'
import type { MessageFrame, ReadReceiptFrame } from './types.js'

export interface RoomUnread {
  epoch: string
  /** The room's latest offset, as far as this client knows. */
  offset: number
  /** The user's cursor. */
  readOffset: number
  unread: number
}

export interface UnreadCountsEvents {
  change: ReadonlyMap<string, RoomUnread>
}

export class UnreadCounts extends TypedEmitter<UnreadCountsEvents> {
  readonly rooms = new Map<string, RoomUnread>()
  private readonly offs: Array<() => void>

  constructor (private readonly client: ChatClient) {
    super()
    this.offs = [
      client.on('message', this.onMessage),
      client.on('read_receipt', this.onReceipt),
      client.on('open', () => { this.refresh().catch(() => {}) })
    ]
  }

  /** The room's unread count; 0 for a room not known. */
  unread (room: string): number {
    return this.rooms.get(room)?.unread ?? 0
  }

  /** Reads every count from the server (every room with a cursor, and `extraRooms`). */
  async refresh (extraRooms: string[] = []): Promise<void> {
    const [all, extra] = await Promise.all([
      this.client.unread(),
      extraRooms.length > 0 ? this.client.unread(extraRooms) : Promise.resolve({ rooms: [] })
    ])
    this.rooms.clear()
    for (const row of [...all.rooms, ...extra.rooms]) {
      this.rooms.set(row.room, { epoch: row.epoch, offset: row.offset, readOffset: row.readOffset, unread: row.unread })
    }
    this.emit('change', this.rooms)
  }

  /** `markRead` through the client, with the count cleared at once rather than at the answer. */
  markRead (room: string, offset: number): Promise<unknown> {
    const row = this.rooms.get(room)
    if (row !== undefined && this.moveCursor(row, row.epoch, offset)) this.emit('change', this.rooms)
    return this.client.markRead(room, offset)
  }

  close (): void {
    for (const off of this.offs) off()
  }

  private readonly onMessage = (frame: MessageFrame): void => {
    if (frame.offset === undefined || frame.epoch === undefined) return
    let row = this.rooms.get(frame.room)
    if (row === undefined || row.epoch !== frame.epoch) {
      row = { epoch: frame.epoch, offset: 0, readOffset: 0, unread: 0 }
      this.rooms.set(frame.room, row)
    }
    if (frame.offset > row.offset) row.offset = frame.offset
    const own = frame.from.user !== null && frame.from.user === this.client.welcome?.user
    if (!own || !this.moveCursor(row, frame.epoch, frame.offset)) row.unread = row.offset - row.readOffset
    this.emit('change', this.rooms)
  }

  private readonly onReceipt = (frame: ReadReceiptFrame): void => {
    if (frame.user !== this.client.welcome?.user) return
    const row = this.rooms.get(frame.room)
    if (row !== undefined && this.moveCursor(row, frame.epoch, frame.offset)) this.emit('change', this.rooms)
  }

  /** Forward only, within the room's epoch; false when nothing changed. */
  private moveCursor (row: RoomUnread, epoch: string, offset: number): boolean {
    if (epoch !== row.epoch || offset <= row.readOffset) return false
    row.readOffset = Math.min(offset, row.offset)
    row.unread = row.offset - row.readOffset
    return true
  }
}
