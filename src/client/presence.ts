/**
 * A live list of who is in a room: the `presence` answer, kept current by `member_joined` /
 * `member_left`, and read again after each reconnect (events are at most once: those sent while
 * the socket was down are lost, the list is not).
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

export class RoomPresence extends TypedEmitter<RoomPresenceEvents> {
  /** The room's members, by connectionId: this client's own connection included. */
  readonly members = new Map<string, Member>()
  /** The room's size as last read (the list holds at most 1000); moved by the events since. */
  count = 0
  private readonly onJoined = (frame: MemberJoinedFrame): void => {
    if (frame.room !== this.room || this.members.has(frame.member.connectionId)) return
    this.members.set(frame.member.connectionId, frame.member)
    this.count++
    this.emit('change', this.members)
  }

  private readonly onLeft = (frame: MemberLeftFrame): void => {
    if (frame.room !== this.room || !this.members.delete(frame.member.connectionId)) return
    this.count--
    this.emit('change', this.members)
  }

  private readonly onOpen = (): void => { this.refresh().catch(() => {}) }

  constructor (private readonly client: ChatClient, readonly room: string) {
    super()
    client.on('member_joined', this.onJoined)
    client.on('member_left', this.onLeft)
    client.on('open', this.onOpen)
  }

  /** Reads the whole list again; the events keep it current from then on. */
  async refresh (): Promise<void> {
    const frame = await this.client.presence(this.room)
    this.members.clear()
    for (const member of frame.members) this.members.set(member.connectionId, member)
    this.count = frame.count
    this.emit('change', this.members)
  }

  /** Stops following the room. */
  stop (): void {
    this.client.off('member_joined', this.onJoined)
    this.client.off('member_left', this.onLeft)
    this.client.off('open', this.onOpen)
  }
}
