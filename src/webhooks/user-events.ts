/**
 * user.online and user.offline, from read-state's user status (src/read-state/), which keeps one
 * lease per socket of a user on every instance: a delayed mark of the user (delayed-marks.ts,
 * redis-marks.ts), on the pattern of room.occupied / room.vacated (presence-events.ts):
 *
 * - user.online: a new lease of a user was written; the user's online mark (a key on the user's
 *   slot, set with NX after the lease) makes one instance raise it.
 * - user.offline: a socket's close left the user no live lease; a check is queued, due
 *   WEBHOOK_VACATED_DELAY_MS later. It reads the status (expired leases removed, as the status
 *   endpoint does) and deletes the mark if no lease is live, in one script: only then, and only by
 *   that instance, is user.offline raised, with the status's lastSeen. A reconnect within the delay
 *   makes no pair of events.
 * - The users of a killed instance: nobody closes their sockets. A user past the renewal its
 *   instance recorded whose leases have all expired gets its check queued by whichever instance
 *   polls first; one with a live lease (another instance's) is looked at again a period later.
 *
 * Auth off, sockets have no user: these events are not sent.
 */
import type { FastifyInstance } from 'fastify'
import { MemoryUserStatus } from '../read-state/memory-stores.js'
import { RedisUserStatus } from '../read-state/redis-user-status.js'
import type { UserStatusWatcher } from '../read-state/stores.js'
import { LocalMarks, type DelayedMarks, type MarkEvents } from './delayed-marks.js'
import { RedisMarks, redisMarksContext, runUntilClose, type RedisMarksContext } from './redis-marks.js'
import type { Webhooks } from './webhooks.js'

export interface WatchUsersOptions {
  fastify: FastifyInstance
  webhooks: Webhooks
  delayMs: number
}

const onlineData = (user: string): string => `{"user":${JSON.stringify(user)}}`
const offlineData = (user: string, lastSeen: number): string => `{"user":${JSON.stringify(user)},"lastSeen":${lastSeen}}`
const USER_EVENTS: MarkEvents = { up: 'user.online', down: 'user.offline', upData: onlineData }

/** Wires the events; returns what the start-up log says about them. */
export function watchUsers ({ fastify, webhooks, delayMs }: WatchUsersOptions): string {
  if (!webhooks.wants('user.online') && !webhooks.wants('user.offline')) return 'user events not asked for (WEBHOOK_EVENTS)'
  if (!fastify.config.AUTH_ENABLED) return 'user events off: AUTH_ENABLED=false (sockets have no user)'
  const status = fastify.readState.status
  if (status instanceof MemoryUserStatus) {
    // One instance: its sockets are everyone's.
    const marks = new LocalMarks({ webhooks, delayMs }, {
      ...USER_EVENTS,
      downData: async user => {
        const now = await status.status(user)
        return now.connections === 0 ? offlineData(user, now.lastSeen ?? Date.now() - delayMs) : null
      }
    })
    status.watcher = new UserEvents(marks)
    return 'user events from this instance\'s sockets'
  }
  const redis = fastify.chatApiRedis
  if (!(status instanceof RedisUserStatus) || redis === null) return 'user events off'
  const marks = redisUserMarks(status, redisMarksContext(fastify, redis, { webhooks, delayMs }))
  status.watcher = new UserEvents(marks)
  runUntilClose(fastify, marks)
  return 'user events from the cluster\'s user status (Redis)'
}

/** A user's new lease marks it (with Redis: after the lease was written, so a check that finds none deletes the mark first, or sees it). */
class UserEvents implements UserStatusWatcher {
  constructor (private readonly marks: DelayedMarks) {}

  socketOpened (user: string): void {
    this.marks.up(user)
  }

  socketClosed (user: string, live: number): void {
    if (live > 0) return
    this.marks.down(user)
  }
}

function redisUserMarks (status: RedisUserStatus, context: RedisMarksContext): RedisMarks {
  const { client, layout, delayMs } = context
  const marks: RedisMarks = new RedisMarks(context, {
    ...USER_EVENTS,
    checksName: 'user-checks',
    leasedName: 'users-leased',
    mark: user => layout.userOnlineMark(user),
    localKeys: () => status.localUsers(),
    available: () => client.status === 'ready',
    unrenewed: async (user, score, now) => {
      const seen = await status.status(user)
      if (seen === null) return false
      if (seen.connections > 0) {
        // A lease Redis's clock has not expired yet, or an instance that does not renew here: look again later.
        await marks.recheckLater(user, now)
        return true
      }
      await marks.queueCheck(user, now)
      await marks.forget(user, score)
      return true
    },
    unmark: async (user, score) => {
      const checked = await status.statusUnmarking(user, layout.userOnlineMark(user))
      return checked.unmarked ? offlineData(user, checked.lastSeen ?? Number(score) - delayMs) : null
    },
    writeFailed: 'a webhook user status write failed'
  })
  return marks
}
