/**
 * room.* and member.* events, from presence (src/presence/), so that they are true for the whole
 * cluster: presence tells exactly one instance of each change (the one whose write made it, the
 * removal of a killed instance's expired leases included), and that instance raises the event.
 *
 * - member.joined / member.left: as `member_joined` / `member_left`.
 * - room.occupied / room.vacated: a delayed mark of the room (delayed-marks.ts, redis-marks.ts),
 *   set when a member joins; each member.left queues the check, which raises room.vacated only if
 *   the room has no live lease then and its mark was still set (VACATE: one step), so a member who
 *   comes back within WEBHOOK_VACATED_DELAY_MS makes no pair of events.
 * - The last members of a killed instance: nobody renews their room any more, so no heartbeat
 *   expires their leases. Once the room is past the renewal its instance recorded, whichever
 *   instance polls first removes the expired leases (member.left each), which queues the check.
 *
 * With PRESENCE_ENABLED=false there is no cluster-wide membership to be true about: these events
 * are not sent (the start-up log says so); message.stored still is. user.online / user.offline come
 * from read-state's user status instead (user-events.ts).
 */
import type { FastifyInstance } from 'fastify'
import { LocalPresence } from '../presence/local-presence.js'
import type { PresenceWatcher } from '../presence/presence.js'
import { RedisPresence } from '../presence/redis-presence.js'
import { LocalMarks, type DelayedMarks, type MarkEvents } from './delayed-marks.js'
import { RedisMarks, redisMarksContext, runUntilClose, type RedisMarksContext } from './redis-marks.js'
import type { Webhooks } from './webhooks.js'

/** KEYS[1] the room's leases zset, KEYS[2] its occupied mark. 1: the room is vacated (and the mark was ours to clear). */
const VACATE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf') > 0 then return 0 end
return redis.call('DEL', KEYS[2])`

export interface WatchPresenceOptions {
  fastify: FastifyInstance
  webhooks: Webhooks
  delayMs: number
}

const roomData = (room: string): string => `{"room":"${room}"}`
const ROOM_EVENTS: MarkEvents = { up: 'room.occupied', down: 'room.vacated', upData: roomData }

/** `{"room":"R","connectionId":..,"user":..}` from the stored member JSON `{"connectionId","user"}`. */
function memberData (room: string, member: string): string {
  return `{"room":"${room}",${member.slice(1)}`
}

/** Wires the events; returns what the start-up log says about them. */
export function watchPresence ({ fastify, webhooks, delayMs }: WatchPresenceOptions): string {
  const presence = fastify.hub.presence
  if (presence === null) return 'room and member events off: PRESENCE_ENABLED=false (message.stored only)'
  if (presence instanceof LocalPresence) {
    // One instance: its presence is everyone's.
    const occupied = (room: string): boolean => presence.hasRoom(room)
    const marks = new LocalMarks({ webhooks, delayMs }, { ...ROOM_EVENTS, downData: async room => occupied(room) ? null : roomData(room) })
    presence.watcher = new RoomEvents(webhooks, marks, occupied)
    return 'room and member events from this instance\'s presence'
  }
  const redis = fastify.chatApiRedis
  if (!(presence instanceof RedisPresence) || redis === null) return 'room and member events off'
  const marks = redisRoomMarks(presence, redisMarksContext(fastify, redis, { webhooks, delayMs }))
  presence.watcher = new RoomEvents(webhooks, marks)
  runUntilClose(fastify, marks)
  return 'room and member events from the cluster\'s presence (Redis)'
}

/** member.* at once; room.* through the room's delayed mark. */
class RoomEvents implements PresenceWatcher {
  constructor (
    private readonly webhooks: Webhooks,
    private readonly marks: DelayedMarks,
    /** A room known to be still occupied needs no check (one instance only: in Redis the check looks). */
    private readonly stillOccupied: (room: string) => boolean = () => false
  ) {}

  memberJoined (room: string, member: string): void {
    this.webhooks.emit('member.joined', memberData(room, member))
    this.marks.up(room)
  }

  memberLeft (room: string, member: string): void {
    this.webhooks.emit('member.left', memberData(room, member))
    if (!this.stillOccupied(room)) this.marks.down(room)
  }
}

function redisRoomMarks (presence: RedisPresence, context: RedisMarksContext): RedisMarks {
  const occupiedKey = (room: string): string => `${context.prefix}:{${room}}:webhook-occupied`
  const marks: RedisMarks = new RedisMarks(context, {
    ...ROOM_EVENTS,
    checksName: 'checks',
    leasedName: 'leased',
    mark: occupiedKey,
    localKeys: () => Array.from(presence.members.roomNames()),
    available: () => presence.available,
    unrenewed: async (room, score) => {
      // Removes the expired leases: member.left each, which queues the room's check.
      if (!(await presence.expireRoom(room))) await marks.forget(room, score)
      return true
    },
    unmark: async room => {
      const vacated = await context.client.eval(VACATE, 2, context.layout.presenceLeases(room), occupiedKey(room))
      return vacated === 1 ? roomData(room) : null
    },
    writeFailed: 'a webhook presence write failed'
  })
  return marks
}
