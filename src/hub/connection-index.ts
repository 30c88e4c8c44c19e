/**
 * This instance's open connections by id and by user, so that admission control counts a user's
 * sockets and the server API finds the sockets to disconnect, each in O(1).
 */
import type { Connection } from './connection.js'

export class ConnectionIndex {
  private readonly ids = new Map<string, Connection>()
  private readonly users = new Map<string, Set<Connection>>()

  add (conn: Connection): void {
    this.ids.set(conn.id, conn)
    const user = conn.principal.user
    if (user === null) return
    let sockets = this.users.get(user)
    if (sockets === undefined) {
      sockets = new Set()
      this.users.set(user, sockets)
    }
    sockets.add(conn)
  }

  /** Idempotent: a connection is removed both when the server closes it and when its socket closes. */
  remove (conn: Connection): void {
    if (this.ids.get(conn.id) !== conn) return
    this.ids.delete(conn.id)
    const user = conn.principal.user
    if (user === null) return
    const sockets = this.users.get(user)
    sockets?.delete(conn)
    if (sockets?.size === 0) this.users.delete(user)
  }

  byId (id: string): Connection | undefined {
    return this.ids.get(id)
  }

  /** The user's open connections on this instance (a copy: closing them changes the index). */
  byUser (user: string): Connection[] {
    return [...(this.users.get(user) ?? [])]
  }

  countOf (user: string): number {
    return this.users.get(user)?.size ?? 0
  }
}
