/**
 * Read state in this process's memory, for a single instance without Redis: cursors and last
 * seen are kept READ_STATE_TTL_SEC after their last change, as in Redis, and lost on a restart
 * (as the memory history is, whose epochs change then anyway).
 */
import type { Connection } from '../hub/connection.js'
import type { HistoryStore, Position } from '../history/history-store.js'
import type { Advanced, CursorMove, CursorStore, RoomTops, UserStatusNow, UserStatusStore, UserStatusWatcher } from './stores.js'
import { UserSockets } from './user-sockets.js'

/**
 * Users in a Map kept in the order of their last change, so the sweep drops expired ones from
 * the front and stops at the first live one: no timer per user.
 */
class Expiring<V> {
  private readonly entries = new Map<string, { value: V, expiresAt: number }>()
  private readonly sweeper: ReturnType<typeof setInterval>

  constructor (private readonly ttlMs: number, private readonly now: () => number) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(ttlMs, 60_000))
    this.sweeper.unref()
  }

  get (key: string): V | undefined {
    const entry = this.entries.get(key)
    return entry === undefined || entry.expiresAt <= this.now() ? undefined : entry.value
  }

  /** Stores `value` (re-inserted: the Map stays in the order of changes). */
  touch (key: string, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs })
  }

  close (): void {
    clearInterval(this.sweeper)
  }

  private sweep (): void {
    const now = this.now()
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return
      this.entries.delete(key)
    }
  }
}

export class MemoryCursors implements CursorStore {
  private readonly users: Expiring<Map<string, Position>>

  constructor (ttlSec: number, now: () => number = Date.now) {
    this.users = new Expiring(ttlSec * 1000, now)
  }

  async advance (user: string, moves: CursorMove[]): Promise<Advanced[]> {
    const cursors = this.users.get(user) ?? new Map<string, Position>()
    let changed = false
    const out = moves.map(({ room, cursor }) => {
      const stored = cursors.get(room)
      if (stored !== undefined && stored.epoch === cursor.epoch && stored.offset >= cursor.offset) return { moved: false, cursor: stored }
      cursors.set(room, cursor)
      changed = true
      return { moved: true, cursor }
    })
    if (changed) this.users.touch(user, cursors)
    return out
  }

  async all (user: string): Promise<Map<string, Position>> {
    return new Map(this.users.get(user))
  }

  close (): void {
    this.users.close()
  }
}

/** Where rooms stand, from the memory history (it gives an empty room its epoch, as Redis does). */
export class MemoryTops implements RoomTops {
  constructor (private readonly history: HistoryStore) {}

  async tops (rooms: string[]): Promise<Position[]> {
    return Promise.all(rooms.map(async room => (await this.history.since(room, null)).position))
  }
}

export class MemoryUserStatus implements UserStatusStore {
  watcher: UserStatusWatcher | null = null
  private readonly sockets = new UserSockets()
  private readonly seen: Expiring<number>

  constructor (ttlSec: number, private readonly now: () => number = Date.now) {
    this.seen = new Expiring(ttlSec * 1000, now)
  }

  connected (conn: Connection): void {
    const user = this.sockets.add(conn)
    if (user !== null) this.watcher?.socketOpened(user)
  }

  disconnected (conn: Connection): void {
    const user = this.sockets.remove(conn)
    if (user === null) return
    const live = this.sockets.count(user)
    if (live === 0) this.seen.touch(user, this.now())
    this.watcher?.socketClosed(user, live)
  }

  async status (user: string): Promise<UserStatusNow> {
    return { connections: this.sockets.count(user), lastSeen: this.seen.get(user) ?? null }
  }

  close (): void {
    this.seen.close()
  }
}
