/**
 * This instance's sockets by user, as the user status stores keep them (memory-stores.ts,
 * redis-user-status.ts). A socket without a user (auth off) is not kept.
 */
import type { Connection } from '../hub/connection.js'

export class UserSockets {
  private readonly byUser = new Map<string, Set<string>>()

  /** Keeps the socket; its user, or null when it has none. */
  add (conn: Connection): string | null {
    const user = conn.principal.user
    if (user === null) return null
    let ids = this.byUser.get(user)
    if (ids === undefined) this.byUser.set(user, ids = new Set())
    ids.add(conn.id)
    return user
  }

  /** Forgets the socket; its user, or null when it was not kept (no user, or forgotten already). */
  remove (conn: Connection): string | null {
    const user = conn.principal.user
    const ids = user === null ? undefined : this.byUser.get(user)
    if (user === null || ids === undefined || !ids.delete(conn.id)) return null
    if (ids.size === 0) this.byUser.delete(user)
    return user
  }

  /** The user's sockets here. */
  count (user: string): number {
    return this.byUser.get(user)?.size ?? 0
  }

  /** The users with a socket here. */
  users (): IterableIterator<string> {
    return this.byUser.keys()
  }

  /** Each user with a socket here, and the ids of its sockets. */
  entries (): IterableIterator<[user: string, ids: ReadonlySet<string>]> {
    return this.byUser.entries()
  }
}
