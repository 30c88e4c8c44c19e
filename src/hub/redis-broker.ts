/**
 * Connects the hub to the other instances through Redis pub/sub: a command connection that
 * publishes, and subscriptions (one connection, or one per shard of a cluster) that hear the
 * others. Which Redis mode this is stays below (src/redis/connect.ts): the broker publishes room
 * channels with the layout's command and holds channels through `Subscriptions`.
 *
 * The subscriptions keep the channels wanted (the global ones, plus each room that has local
 * members right now) and subscribe them again whenever a connection comes back; whenever some are
 * not heard the hub's rooms are told (`linkLost`), and once all are heard again they re-read what
 * they missed from the history (`linkRestored`).
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { Broker, BrokerStatus } from './broker.js'
import type { Hub } from './hub.js'
import type { RedisLayout } from '../redis/layout.js'
import type { SubscriptionEvents, Subscriptions } from '../redis/subscriptions.js'
import { isStoredPayload, openStoredPayload } from '../redis/stored-payload.js'
import { isMemberPayload, openMemberPayload } from '../redis/member-payload.js'
import { EnvelopeCodec, OWN_ECHO } from './redis-envelope.js'

export interface RedisBrokerOptions {
  hub: Pick<Hub, 'instanceId' | 'deliverRoom' | 'deliverAll' | 'deliverStored' | 'deliverMember' | 'linkLost' | 'linkRestored' | 'onControl' | 'observer'>
  publisher: Redis | Cluster
  /** Makes the subscriptions, owned (and closed) by the broker, given the broker's handlers. */
  subscriptions: (events: SubscriptionEvents) => Subscriptions
  layout: RedisLayout
  log: FastifyBaseLogger
  /** Bound of each subscriber's QUIT at close. */
  quitTimeoutMs: number
  /** The variable that configured Redis, for the start-up error. */
  variable: string
}

export class RedisBroker implements Broker {
  private readonly hub: RedisBrokerOptions['hub']
  private readonly publisher: Redis | Cluster
  private readonly subscriptions: Subscriptions
  private readonly channels: RedisLayout
  private readonly codec: EnvelopeCodec
  private readonly log: FastifyBaseLogger
  private readonly quitTimeoutMs: number
  private readonly variable: string
  private closed = false
  private closing: Promise<void> | null = null
  private readonly syncWaiters = new Set<() => void>()
  private lastError: string | null = null
  private everSynced = false

  constructor (opts: RedisBrokerOptions) {
    this.hub = opts.hub
    this.publisher = opts.publisher
    this.channels = opts.layout
    this.codec = new EnvelopeCodec(opts.hub.instanceId)
    this.log = opts.log
    this.quitTimeoutMs = opts.quitTimeoutMs
    this.variable = opts.variable

    this.publisher.on('ready', () => {
      this.log.info('redis publisher connected')
      // The history is readable again: rooms that wait for it catch up (they also need `synced`).
      if (this.subscriptions.synced) this.hub.linkRestored()
    })
    this.publisher.on('error', (err: Error) => this.logError(err))
    this.subscriptions = opts.subscriptions({
      message: (channel, payload) => this.receive(channel, payload),
      lost: () => this.linkLost(),
      synced: () => this.synced(),
      error: (err) => this.logError(err),
      failed: (err, channel, what) => this.log.warn({ err, channel }, `redis ${what} failed`)
    })
    // Rooms are added as members join; the global channels are wanted for good.
    for (const channel of [this.channels.all, this.channels.control]) this.subscriptions.add(channel).catch(() => {})
  }

  /** Resolves once the first subscriptions are in place; rejects after `timeoutMs`. */
  waitSynced (timeoutMs: number): Promise<void> {
    if (this.subscriptions.synced) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        this.syncWaiters.delete(done)
        resolve()
      }
      const timer = setTimeout(() => {
        this.syncWaiters.delete(done)
        reject(new Error(`${this.variable}: the Redis subscriber connection was not ready within ${timeoutMs} ms`))
      }, timeoutMs)
      this.syncWaiters.add(done)
    })
  }

  /** Resolves once subscribed, or at once while not connected (the next `ready` subscribes it). */
  async subscribeRoom (room: string): Promise<void> {
    await this.subscriptions.add(this.channels.room(room))
  }

  async unsubscribeRoom (room: string): Promise<void> {
    await this.subscriptions.remove(this.channels.room(room))
  }

  publishRoom (room: string, frame: Buffer): void {
    const channel = this.channels.room(room)
    if (!this.canPublish()) return
    const sealed = this.codec.seal(frame)
    const sent = this.channels.roomPublish === 'SPUBLISH' ? this.publisher.spublish(channel, sealed) : this.publisher.publish(channel, sealed)
    sent.catch(this.onPublishError)
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
    return this.subscriptions.synced && this.publisher.status === 'ready' ? 'connected' : 'reconnecting'
  }

  /** Quits the subscribers (the publisher belongs to @fastify/redis). Idempotent. */
  close (): Promise<void> {
    if (this.closing === null) {
      this.closed = true
      this.closing = this.subscriptions.close(this.quitTimeoutMs)
    }
    return this.closing
  }

  // Delivery across instances is at most once: while the publisher is not connected the frame is
  // dropped (local members already have it) instead of piling up in an offline queue.
  private canPublish (): boolean {
    return !this.closed && this.publisher.status === 'ready'
  }

  private publish (channel: string, frame: Buffer): void {
    if (!this.canPublish()) return
    // On a cluster the global channels are sharded too (layout.ts): SPUBLISH reaches the shard
    // that holds their subscriptions directly, never over the cluster bus.
    const sealed = this.codec.seal(frame)
    const sent = this.channels.sharded(channel) ? this.publisher.spublish(channel, sealed) : this.publisher.publish(channel, sealed)
    sent.catch(this.onPublishError)
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

  /** Every wanted channel is heard (again). */
  private synced (): void {
    if (this.closed) return
    this.lastError = null
    if (this.everSynced) this.hub.observer?.redisReconnected()
    this.everSynced = true
    this.log.info('redis subscriptions in place')
    for (const waiter of this.syncWaiters) waiter()
    // Messages published while a channel was not heard were missed: each room catches up.
    this.hub.linkRestored()
  }

  private linkLost (): void {
    if (!this.closed) this.log.warn('redis subscriber disconnected; resubscribing when Redis is back')
    this.hub.linkLost()
  }

  // ioredis reports each failed reconnect; one line per kind of failure is enough.
  private logError (err: Error): void {
    if (err.message === this.lastError) return
    this.lastError = err.message
    this.log.warn({ err }, 'redis connection error')
  }
}
