/**
 * The presence entries of this instance's own connections: room -> connectionId -> member JSON.
 * The in-process presence answers from it; the Redis presence re-asserts it after Redis returns.
 */
import { PRESENCE_MEMBERS_MAX } from '../schemas/frames.js'
import type { PresenceList } from './presence.js'

export class LocalMembers {
  private readonly rooms = new Map<string, Map<string, string>>()

  /** False when the entry was there already. */
  add (room: string, connectionId: string, member: string): boolean {
    let entries = this.rooms.get(room)
    if (entries === undefined) {
      entries = new Map()
      this.rooms.set(room, entries)
    }
    if (entries.has(connectionId)) return false
    entries.set(connectionId, member)
    return true
  }

  /** The member's JSON when it was there, else undefined. */
  delete (room: string, connectionId: string): string | undefined {
    const entries = this.rooms.get(room)
    const member = entries?.get(connectionId)
    if (entries === undefined || member === undefined) return undefined
    entries.delete(connectionId)
    if (entries.size === 0) this.rooms.delete(room)
    return member
  }

  /** Whether any local connection is a member of the room. */
  hasRoom (room: string): boolean {
    return this.rooms.has(room)
  }

  has (room: string, connectionId: string): boolean {
    return this.rooms.get(room)?.has(connectionId) ?? false
  }

  get size (): number {
    let size = 0
    for (const entries of this.rooms.values()) size += entries.size
    return size
  }

  list (room: string): PresenceList {
    const entries = this.rooms.get(room)
    if (entries === undefined) return { count: 0, members: [] }
    const members: string[] = []
    for (const member of entries.values()) {
      if (members.length === PRESENCE_MEMBERS_MAX) break
      members.push(member)
    }
    return { count: entries.size, members }
  }

  /** A room's entries (connectionId -> member JSON), if any local connection is in it. */
  entries (room: string): ReadonlyMap<string, string> | undefined {
    return this.rooms.get(room)
  }

  /** The rooms a local connection is a member of. */
  roomNames (): IterableIterator<string> {
    return this.rooms.keys()
  }
}
