/**
 * Who is online, cluster-wide, as leases, the way presence keeps room members (src/presence/): each
 * socket of a user is a lease in the user's zset (user-lease.lua), renewed by its instance every
 * PRESENCE_TTL_SEC/5 and living 3/5 of it. A socket that closes removes its lease and, if it was
 * the user's last, records the time (user-status.lua). A socket of an instance that was killed
 * closes nothing: its lease runs out, and the next status read removes it and takes the time of
 * its last renewal as `lastSeen` (at most one period before the kill). No reaper, no instance
 * has to notice another's death: time alone makes the status converge.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { Connection } from '../hub/connection.js'
import type { RedisLayout } from '../redis/layout.js'
import { defineScripts, type ScriptedRedis } from '../redis/scripts.js'
import type { UserStatusNow, UserStatusStore, UserStatusWatcher } from './stores.js'
import { UserSockets } from './user-sockets.js'

export interface RedisUserStatusOptions {
  client: Redis | Cluster
  layout: RedisLayout
  /** How long a lease lives unless renewed. */
  leaseMs: number
  /** How often this instance renews its leases. */
  periodMs: number
  /** READ_STATE_TTL_SEC: how long `lastSeen` is kept. */
  ttlSec: number
  log: FastifyBaseLogger
}

export class RedisUserStatus implements UserStatusStore {
  watcher: UserStatusWatcher | null = null
  private readonly client: ScriptedRedis
  private readonly sockets = new UserSockets()
  /** Closes Redis did not get (unreachable, or the write failed): written by the next renewal. */
  private readonly unsentCloses = new Map<string, string>()
  private readonly timer: ReturnType<typeof setInterval>

  constructor (private readonly opts: RedisUserStatusOptions) {
    this.client = defineScripts(opts.client)
    this.timer = setInterval(() => { this.renew() }, opts.periodMs)
    this.timer.unref()
  }

  connected (conn: Connection): void {
    const user = this.sockets.add(conn)
    if (user === null) return
    this.unsentCloses.delete(conn.id)
    // While Redis is unreachable the next renewal writes it.
    if (this.available) this.lease(user, [conn.id]).catch(this.onWriteError)
  }

  disconnected (conn: Connection): void {
    const user = this.sockets.remove(conn)
    if (user === null) return
    this.unsentCloses.set(conn.id, user)
    if (this.available) this.closeLease(user, conn.id).catch(this.onWriteError)
  }

  async status (user: string): Promise<UserStatusNow | null> {
    if (!this.available) return null
    const { layout, leaseMs, ttlSec } = this.opts
    const [connections, lastSeen] = await this.client.chatUserStatus(layout.userConnections(user), layout.userSeen(user), leaseMs, ttlSec, '0', '')
    return { connections, lastSeen: lastSeen < 0 ? null : lastSeen }
  }

  /**
   * `status`, and in the same step, when the user has no live socket, deletes `mark` (a key on the
   * user's slot): `unmarked` says it was there. The webhooks' user.offline check.
   */
  async statusUnmarking (user: string, mark: string): Promise<UserStatusNow & { unmarked: boolean }> {
    const { layout, leaseMs, ttlSec } = this.opts
    const [connections, lastSeen, unmarked] = await this.client.chatUserOffline(layout.userConnections(user), layout.userSeen(user), mark, leaseMs, ttlSec, '0', '')
    return { connections, lastSeen: lastSeen < 0 ? null : lastSeen, unmarked: unmarked === 1 }
  }

  /** The users with a socket on this instance. */
  localUsers (): IterableIterator<string> {
    return this.sockets.users()
  }

  /** Stops renewing; the sockets closed already (the hub's preClose), which removed their leases. */
  close (): void {
    clearInterval(this.timer)
  }

  /** One command per user with a socket here, all at once; never rejects (the next renewal retries). */
  async renew (): Promise<void> {
    if (!this.available) return
    const writes: Array<Promise<unknown>> = []
    for (const [connectionId, user] of this.unsentCloses) writes.push(this.closeLease(user, connectionId))
    for (const [user, ids] of this.sockets.entries()) writes.push(this.lease(user, [...ids]))
    const outcomes = await Promise.allSettled(writes)
    const failed = outcomes.find(outcome => outcome.status === 'rejected')
    if (failed !== undefined) this.onWriteError(failed.reason as Error)
  }

  private get available (): boolean {
    return this.client.status === 'ready'
  }

  /** A new lease (a connect, or a renewal that found one missing) is told to the watcher once written. */
  private async lease (user: string, ids: string[]): Promise<number> {
    const { layout, leaseMs, ttlSec } = this.opts
    const added = await this.client.chatUserLease(layout.userConnections(user), leaseMs, ttlSec, ...ids)
    if (added > 0) this.watcher?.socketOpened(user)
    return added
  }

  private async closeLease (user: string, connectionId: string): Promise<void> {
    const { layout, leaseMs, ttlSec } = this.opts
    const [live] = await this.client.chatUserStatus(layout.userConnections(user), layout.userSeen(user), leaseMs, ttlSec, '1', connectionId)
    // Unless the same socket was told closed again meanwhile (it cannot reopen: ids are unique).
    if (this.unsentCloses.delete(connectionId)) this.watcher?.socketClosed(user, live)
  }

  private readonly onWriteError = (err: Error): void => {
    this.opts.log.debug({ err }, 'a user status write failed')
  }
}
