/**
 * One subscribing connection and the channels it must hold. The channels are ours, not ioredis's
 * (`autoResubscribe: false`): on every `ready` the link subscribes the channels wanted right now,
 * so a channel added while Redis was down is covered when it returns, and one removed meanwhile is
 * not. (UN)SUBSCRIBE of one connection run in the order sent, so add/remove/add races settle on
 * the caller's last word.
 *
 * Every channel on a Redis Cluster is sharded (SSUBSCRIBE); on one Redis none is.
 */
import type { Redis } from 'ioredis'

/**
 * First wait before subscribing again after a resync was refused on a live connection, doubled on
 * each refusal up to RESUBSCRIBE_MAX_MS: nothing else would try again before the connection drops.
 */
const RESUBSCRIBE_FIRST_MS = 500
const RESUBSCRIBE_MAX_MS = 30_000

export interface LinkEvents {
  /** The link's `synced` changed (it lost its connection, or every channel is subscribed again). */
  changed (): void
  message (channel: Buffer, payload: Buffer): void
  /** The server dropped a sharded channel (its slot moved) or answered MOVED: the topology changed. */
  moved (): void
  error (err: Error): void
  /** A single (un)subscribe failed; the link is still up. */
  failed (err: Error, channel: string, what: string): void
}

export class SubscriberLink {
  private readonly channels = new Set<string>()
  private live = false
  private synced = false
  /** Counts connections lost and resyncs started, so a late answer to an older one is ignored. */
  private epoch = 0
  private resyncing = false
  /** Releases the callers of (un)subscribe commands that a lost connection will never answer. */
  private readonly unanswered = new Set<(answered?: boolean) => void>()
  private closed = false
  /** Resyncs refused in a row on a live connection, and the timer of the next attempt. */
  private refusals = 0
  private retry: NodeJS.Timeout | null = null

  constructor (
    /** Made with `autoResubscribe: false`, `autoResendUnfulfilledCommands: false` and no offline queue. */
    readonly client: Redis,
    private readonly sharded: (channel: string) => boolean,
    private readonly events: LinkEvents
  ) {
    client.on('messageBuffer', events.message)
    client.on('smessageBuffer', events.message)
    client.on('ready', () => {
      this.live = true
      this.resync()
    })
    client.on('close', () => this.lost())
    client.on('moved', () => {
      if (this.synced) this.unsync()
      events.moved()
    })
    client.on('error', events.error)
    if (client.status === 'ready') {
      this.live = true
      this.resync()
    }
  }

  get isSynced (): boolean {
    return this.synced
  }

  get size (): number {
    return this.channels.size
  }

  holds (): IterableIterator<string> {
    return this.channels.values()
  }

  has (channel: string): boolean {
    return this.channels.has(channel)
  }

  /**
   * Resolves true once subscribed, false when refused or lost; at once while not connected. A
   * refusal on a connection that stays up leaves the link unsynced until a resync takes the
   * channel: synced, it would claim a room it does not hear.
   */
  async add (channel: string): Promise<boolean> {
    this.channels.add(channel)
    if (!this.live) return false
    const epoch = this.epoch
    const subscribed = await this.settled(this.subscribe([channel]), 'subscribe', channel)
    if (!subscribed && this.live && this.epoch === epoch && this.channels.has(channel)) {
      // Also when a resync is under way: it may have begun before the channel was wanted.
      this.unsync()
      this.resyncLater()
    }
    return subscribed
  }

  async remove (channel: string): Promise<void> {
    this.channels.delete(channel)
    if (!this.live) return
    await this.settled(this.sharded(channel) ? this.client.sunsubscribe(channel) : this.client.unsubscribe(channel), 'unsubscribe', channel)
  }

  /** Takes a channel over from another link (its slot moved here): subscribed by the next resync. */
  adopt (channel: string): void {
    this.channels.add(channel)
    if (this.synced) this.unsync()
  }

  /**
   * Subscribes every wanted channel again (subscribing twice is harmless) and is synced once all
   * are answered. Does nothing while disconnected: `ready` does it.
   */
  resync (): void {
    if (this.closed || !this.live || this.resyncing || this.synced) return
    this.resyncing = true
    const epoch = this.epoch
    this.settled(this.subscribe([...this.channels]), 'subscribe', null).then(subscribed => {
      if (this.epoch !== epoch) return
      this.resyncing = false
      // Refused (an ACL without channel rights, a slot that moved, a Redis that answers with an
      // error while it restarts): not synced, so stats say reconnecting, /ready is 503 and a
      // booting instance fails to start. The connection is up, so no `ready` will come to try
      // again: the link does, or its rooms would hear nothing until the connection drops.
      if (!subscribed) return this.resyncLater()
      this.refusals = 0
      this.synced = true
      this.events.changed()
    })
  }

  close (): void {
    this.closed = true
    this.lost()
  }

  /** One attempt pending at a time; a lost connection cancels it (its `ready` resyncs). */
  private resyncLater (): void {
    if (this.retry !== null) return
    const delay = Math.min(RESUBSCRIBE_FIRST_MS * 2 ** this.refusals, RESUBSCRIBE_MAX_MS)
    this.refusals++
    this.retry = setTimeout(() => {
      this.retry = null
      this.resync()
    }, delay).unref()
  }

  private subscribe (channels: string[]): Promise<unknown> {
    const classic = channels.filter(c => !this.sharded(c))
    // A sharded SSUBSCRIBE takes channels of one slot only: one command each.
    const sharded = channels.filter(c => this.sharded(c)).map(c => this.client.ssubscribe(c))
    if (classic.length > 0) sharded.push(this.client.subscribe(...classic))
    return Promise.all(sharded)
  }

  private unsync (): void {
    this.synced = false
    this.resyncing = false
    this.epoch++
    this.events.changed()
  }

  private lost (): void {
    this.live = false
    if (this.retry !== null) clearTimeout(this.retry)
    this.retry = null
    this.refusals = 0
    this.unsync()
    for (const release of this.unanswered) release()
  }

  /**
   * A (un)subscribe on a connection that drops is never answered (`autoResendUnfulfilledCommands`
   * is off: the next `ready` redoes the lot), so each waits for its reply or the loss, whichever
   * comes first. A joiner is never left waiting on Redis.
   */
  private settled (command: Promise<unknown>, what: string, channel: string | null): Promise<boolean> {
    return new Promise(resolve => {
      /** `answered`: Redis accepted the command; false when it refused it or the link dropped. */
      const release = (answered = false): void => {
        this.unanswered.delete(release)
        resolve(answered)
      }
      this.unanswered.add(release)
      command.then(() => release(true), (err: Error) => {
        this.events.failed(err, channel ?? `${this.channels.size} channels`, what)
        release()
      })
    })
  }
}
