/**
 * Connects the hub to the other instances through Redis pub/sub: a publishing connection and a
 * dedicated subscriber (a subscribed connection can do nothing else).
 *
 * Subscriptions are ours, not ioredis's (`autoResubscribe: false`): on every subscriber `ready`
 * we subscribe the global channel plus each room that has local members right now, so a room
 * joined while Redis was down is covered when it returns, and a room left meanwhile is not.
 * SUBSCRIBE/UNSUBSCRIBE of one connection run in the order sent, so join/leave/join races settle
 * on the hub's last word.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { Broker, BrokerStatus } from './broker.js'
import type { Hub } from './hub.js'
import type { RedisLayout } from '../redis/layout.js'
import { isStoredPayload, openStoredPayload } from '../redis/stored-payload.js'
import { isMemberPayload, openMemberPayload } from '../presence/member-payload.js'
import { EnvelopeCodec, OWN_ECHO } from './redis-envelope.js'
import { quitWithTimeout } from './redis-quit.js'

export interface RedisBrokerOptions {
  hub: Pick<Hub, 'instanceId' | 'deliverRoom' | 'deliverAll' | 'deliverStored' | 'deliverMember' | 'roomNames' | 'linkLost' | 'linkRestored' | 'onControl' | 'observer'>
  publisher: Redis
  /** Made with `autoResubscribe: false` and `enableOfflineQueue: false`; owned (and quit) by the broker. */
  subscriber: Redis
  layout: RedisLayout
  log: FastifyBaseLogger
  /** Bound of the subscriber's QUIT at close. */
  quitTimeoutMs: number
}

export class RedisBroker implements Broker {
  private readonly hub: RedisBrokerOptions['hub']
  private readonly publisher: Redis
  private readonly subscriber: Redis
  private readonly channels: RedisLayout
  private readonly codec: EnvelopeCodec
  private readonly log: FastifyBaseLogger
  private readonly quitTimeoutMs: number
  /** The subscriber is connected: room (un)subscriptions go to Redis now. */
  private live = false
  /** Every channel the hub needs was subscribed on the current connection. */
  private synced = false
  /** Counts subscriber connections lost, so a late answer from a lost one is recognised. */
  private epoch = 0
  /** Releases the callers of (un)subscribe commands that a lost connection will never answer. */
  private readonly unanswered = new Set<(answered?: boolean) => void>()
  private closed = false
  private closing: Promise<void> | null = null
  private readonly syncWaiters = new Set<() => void>()
  private lastError: string | null = null
  private everSynced = false

  constructor (opts: RedisBrokerOptions) {
    this.hub = opts.hub
    this.publisher = opts.publisher
    this.subscriber = opts.subscriber
    this.channels = opts.layout
    this.codec = new EnvelopeCodec(opts.hub.instanceId)
    this.log = opts.log
    this.quitTimeoutMs = opts.quitTimeoutMs

    this.subscriber.on('messageBuffer', (channel: Buffer, payload: Buffer) => this.receive(channel, payload))
    this.subscriber.on('ready', () => this.resubscribe())
    this.subscriber.on('close', () => this.subscriberLost())
    this.publisher.on('ready', () => {
      this.log.info('redis publisher connected')
      // The history is readable again: rooms that wait for it catch up (they also need `synced`).
      if (this.synced) this.hub.linkRestored()
    })
    for (const client of [this.publisher, this.subscriber]) client.on('error', (err: Error) => this.logError(err))
    if (this.subscriber.status === 'ready') this.resubscribe()
  }

  /** Resolves once the first subscription is in place; rejects after `timeoutMs`. */
  waitSynced (timeoutMs: number): Promise<void> {
    if (this.synced) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        this.syncWaiters.delete(done)
        resolve()
      }
      const timer = setTimeout(() => {
        this.syncWaiters.delete(done)
        reject(new Error(`REDIS_URL: the Redis subscriber connection was not ready within ${timeoutMs} ms`))
      }, timeoutMs)
      this.syncWaiters.add(done)
    })
  }

  async subscribeRoom (room: string): Promise<void> {
    // Not connected: resolve now, the next `ready` subscribes every room that has members.
    if (!this.live) return
    await this.settled(this.subscriber.subscribe(this.channels.room(room)), 'subscribe', room)
  }

  async unsubscribeRoom (room: string): Promise<void> {
    if (!this.live) return
    await this.settled(this.subscriber.unsubscribe(this.channels.room(room)), 'unsubscribe', room)
  }

  publishRoom (room: string, frame: Buffer): void {
    this.publish(this.channels.room(room), frame)
  }

  publishAll (frame: Buffer): void {
    this.publish(this.channels.all, frame)
  }

  publishControl (payload: Buffer): boolean {
    if (this.status() !== 'connected') return false
    this.publish(this.channels.control, payload)
    return true
  }

  status (): BrokerStatus {
    return this.synced && this.publisher.status === 'ready' ? 'connected' : 'reconnecting'
  }

  /** Quits the subscriber (the publisher belongs to @fastify/redis). Idempotent. */
  close (): Promise<void> {
    if (this.closing === null) {
      this.closed = true
      this.subscriberLost()
      this.closing = quitWithTimeout(this.subscriber, this.quitTimeoutMs)
    }
    return this.closing
  }

  // Delivery across instances is at most once: while the publisher is not connected the frame is
  // dropped (local members already have it) instead of piling up in an offline queue.
  private publish (channel: string, frame: Buffer): void {
    if (this.closed || this.publisher.status !== 'ready') return
    this.publisher.publish(channel, this.codec.seal(frame)).catch(this.onPublishError)
  }

  private readonly onPublishError = (err: Error): void => {
    this.log.debug({ err }, 'redis publish failed')
  }

  private receive (channel: Buffer, payload: Buffer): void {
    if (isStoredPayload(payload)) return this.receiveStored(channel, payload)
    if (isMemberPayload(payload)) return this.receiveMember(channel, payload)
    const frame = this.codec.open(payload)
    if (frame === OWN_ECHO) return // our members got it from the hub already
    const name = channel.toString('latin1')
    if (frame === null) {
      this.log.debug({ channel: name, bytes: payload.length }, 'dropped a malformed Redis payload')
      return
    }
    if (name === this.channels.all) {
      this.hub.deliverAll(frame)
      return
    }
    if (name === this.channels.control) return this.hub.onControl?.(frame)
    const room = this.channels.roomOf(name)
    if (room !== null) this.hub.deliverRoom(room, frame)
  }

  /** A stored room message, published by the history script of any instance, this one included. */
  private receiveStored (channel: Buffer, payload: Buffer): void {
    const stored = openStoredPayload(payload)
    const room = this.channels.roomOf(channel.toString('latin1'))
    if (stored === null || room === null) {
      this.log.debug({ bytes: payload.length }, 'dropped a malformed stored-message payload')
      return
    }
    this.hub.deliverStored(room, stored.offset, stored.epoch, stored.frame)
  }

  /** A presence event, published by the presence scripts of any instance, this one included. */
  private receiveMember (channel: Buffer, payload: Buffer): void {
    const event = openMemberPayload(payload)
    const room = this.channels.roomOf(channel.toString('latin1'))
    if (event === null || room === null) {
      this.log.debug({ bytes: payload.length }, 'dropped a malformed member-event payload')
      return
    }
    this.hub.deliverMember(room, event.frame, event.except)
  }

  private resubscribe (): void {
    if (this.closed || this.live) return
    this.live = true
    this.lastError = null
    const epoch = this.epoch
    const channels = [this.channels.all, this.channels.control]
    for (const room of this.hub.roomNames()) channels.push(this.channels.room(room))
    this.settled(this.subscriber.subscribe(...channels), 'subscribe', null).then(subscribed => {
      // Lost again before Redis answered, or refused (an ACL without channel rights, say): not
      // synced, so stats say reconnecting, /ready is 503 and a booting instance fails to start.
      if (this.epoch !== epoch || !subscribed) return
      this.synced = true
      if (this.everSynced) this.hub.observer?.redisReconnected()
      this.everSynced = true
      this.log.info({ rooms: channels.length - 2 }, 'redis subscriber connected')
      for (const waiter of this.syncWaiters) waiter()
      // Messages published while the link was down were not heard: each room catches up.
      this.hub.linkRestored()
    })
  }

  private subscriberLost (): void {
    if (this.live && !this.closed) this.log.warn('redis subscriber disconnected; resubscribing when Redis is back')
    if (this.live) this.hub.linkLost()
    this.live = false
    this.synced = false
    this.epoch++
    for (const release of this.unanswered) release()
  }

  /**
   * A (un)subscribe on a connection that drops is never answered (`autoResendUnfulfilledCommands`
   * is off: the next `ready` redoes the lot), so each waits for its reply or the loss, whichever
   * comes first. A joiner is never left waiting on Redis.
   */
  private settled (command: Promise<unknown>, what: string, room: string | null): Promise<boolean> {
    return new Promise(resolve => {
      /** `answered`: Redis accepted the command; false when it refused it or the link dropped. */
      const release = (answered = false): void => {
        this.unanswered.delete(release)
        resolve(answered)
      }
      this.unanswered.add(release)
      command.then(() => release(true), (err: Error) => {
        this.log.warn({ err, room }, `redis ${what} failed`)
        release()
      })
    })
  }

  // ioredis reports each failed reconnect; one line per kind of failure is enough.
  private logError (err: Error): void {
    if (err.message === this.lastError) return
    this.lastError = err.message
    this.log.warn({ err }, 'redis connection error')
  }
}
