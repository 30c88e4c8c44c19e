/**
 * A live list of who is in a room: the `presence` answer, kept current by `member_joined` /
 * `member_left`.
 *
 * Member events are at most once: one is missed while this client's socket is down, and while its
 * server's link to Redis is down (the socket stays open; the room's messages are caught up
 * afterwards, member events are not). So the list is read again after each reconnect and every
 * `resyncMs` (default one minute): a missed event leaves it wrong for at most that long.
 *
 * The list and the events travel by different paths (the command's answer, the room's channel),
 * so events may overtake the answer: those that arrive while a read is pending are applied again
 * on top of the list once it is in, and a member's join or leave is never undone by an older list.
 *
 *   const people = new RoomPresence(chat, 'general')
 *   people.on('change', members => render([...members.values()]))
 *   await people.refresh()
 */
import type { ChatClient } from './chat-client.js'
import { TypedEmitter } from './emitter.js'
import type { MemberJoinedFrame, MemberLeftFrame, PresenceFrame } from './types.js'

export type Member = PresenceFrame['members'][number]

export interface RoomPresenceEvents {
  /** The list changed; keyed by connectionId. */
  change: ReadonlyMap<string, Member>
}

export interface RoomPresenceOptions {
  /** Read the whole list again this often (ms), to correct a missed event; 0: only after reconnects. Default 60000. */
  resyncMs?: number
}

export const DEFAULT_PRESENCE_RESYNC_MS = 60_000

type MemberEvent = MemberJoinedFrame | MemberLeftFrame

export class RoomPresence extends TypedEmitter<RoomPresenceEvents> {
  /** The room's members, by connectionId: this client's own connection included. */
  readonly members = new Map<string, Member>()
  /** The room's size as last read (the list holds at most 1000); moved by the events since. */
  count = 0
  /** The events received during each read still pending: applied again on top of its answer. */
  private readonly sinceAsked = new Set<MemberEvent[]>()
  private readonly resync: ReturnType<typeof setInterval> | null

  private readonly onEvent = (frame: MemberEvent): void => {
    if (frame.room !== this.room) return
    for (const events of this.sinceAsked) events.push(frame)
    if (this.apply(frame)) this.emit('change', this.members)
  }

  private readonly onOpen = (): void => { this.refresh().catch(() => {}) }

  constructor (private readonly client: ChatClient, readonly room: string, opts: RoomPresenceOptions = {}) {
    super()
    client.on('member_joined', this.onEvent)
    client.on('member_left', this.onEvent)
    client.on('open', this.onOpen)
    const resyncMs = opts.resyncMs ?? DEFAULT_PRESENCE_RESYNC_MS
    const resync = resyncMs > 0 ? setInterval(() => { if (client.state === 'open') this.onOpen() }, resyncMs) : null
    // In Node, following a room must not keep the process alive.
    if (resync !== null && typeof resync === 'object' && 'unref' in resync) resync.unref()
    this.resync = resync
  }

  /** Reads the whole list again; the events keep it current from then on. */
  async refresh (): Promise<void> {
    const events: MemberEvent[] = []
    this.sinceAsked.add(events)
    let frame: PresenceFrame
    try {
      frame = await this.client.presence(this.room)
    } finally {
      this.sinceAsked.delete(events)
    }
    this.members.clear()
    for (const member of frame.members) this.members.set(member.connectionId, member)
    this.count = frame.count
    // Whatever came after the list was asked for: already in it (no change), or newer than it.
    for (const event of events) this.apply(event)
    this.emit('change', this.members)
  }

  /** Stops following the room. */
  stop (): void {
    this.client.off('member_joined', this.onEvent)
    this.client.off('member_left', this.onEvent)
    this.client.off('open', this.onOpen)
    if (this.resync !== null) clearInterval(this.resync)
  }

  /** True when the event changed the list. */
  private apply (frame: MemberEvent): boolean {
    const id = frame.member.connectionId
    if (frame.type === 'member_joined') {
      if (this.members.has(id)) return false
      this.members.set(id, frame.member)
      this.count++
      return true
    }
    if (!this.members.delete(id)) return false
    this.count--
    return true
  }
}
