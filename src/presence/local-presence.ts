/** Presence of a single instance (no Redis): its own connections are everyone. */
import type { Connection } from '../hub/connection.js'
import { LocalMembers } from './local-members.js'
import { memberEvent, memberJson, type InstanceCounts, type InstanceInfo, type Presence, type PresenceList, type PresenceStats, type PresenceWatcher } from './presence.js'

export interface LocalPresenceOptions {
  instanceId: string
  startedAt: number
  counts: () => InstanceCounts
  /** Delivers a member event to the room's local members, except the connection it is about. */
  deliver: (room: string, frame: Buffer, except: string) => void
}

export class LocalPresence implements Presence {
  private readonly members = new LocalMembers()
  watcher: PresenceWatcher | null = null

  constructor (private readonly opts: LocalPresenceOptions) {}

  joined (conn: Connection, room: string): void {
    const member = memberJson(conn)
    if (!this.members.add(room, conn.id, member)) return
    this.opts.deliver(room, memberEvent('member_joined', room, member), conn.id)
    this.watcher?.memberJoined(room, member)
  }

  left (conn: Connection, room: string): void {
    const member = this.members.delete(room, conn.id)
    if (member === undefined) return
    this.opts.deliver(room, memberEvent('member_left', room, member), conn.id)
    this.watcher?.memberLeft(room, member)
  }

  async list (room: string): Promise<PresenceList> {
    return this.members.list(room)
  }

  async instances (): Promise<InstanceInfo[]> {
    const { instanceId, startedAt } = this.opts
    return [{ instanceId, ...this.opts.counts(), startedAt, lastSeen: Date.now() }]
  }

  stats (): PresenceStats {
    return { members: this.members.size, expired: 0, reasserted: 0 }
  }

  /** Whether the room has a member (one instance: every member is here). */
  hasRoom (room: string): boolean {
    return this.members.hasRoom(room)
  }

  close (): void {}
}
