/**
 * The subscribing side of a Redis mode, as the broker sees it: channels to hold, one `synced` for
 * all of them, and the events of the links underneath. One Redis (or the master that Sentinel
 * names) needs one link; a cluster needs one per shard (cluster-subscriptions.ts). The broker
 * never knows which.
 */
import type { Redis } from 'ioredis'
import { quitWithTimeout } from './quit.js'
import { SubscriberLink } from './subscriber-link.js'

export interface SubscriptionEvents {
  message (channel: Buffer, payload: Buffer): void
  /** Some wanted channel is no longer heard: what it carries meanwhile is missed. */
  lost (): void
  /** Every wanted channel is subscribed again (also the first time). */
  synced (): void
  error (err: Error): void
  failed (err: Error, channel: string, what: string): void
}

export interface Subscriptions {
  /** Resolves true once subscribed, false when refused or lost; at once while not connected. */
  add (channel: string): Promise<boolean>
  remove (channel: string): Promise<void>
  readonly synced: boolean
  /** Quits every subscribing connection, each bounded by `timeoutMs`. */
  close (timeoutMs: number): Promise<void>
}

/** Turns the links' states into `lost` / `synced` transitions of the whole. */
export class SyncState {
  private synced = false

  constructor (private readonly events: Pick<SubscriptionEvents, 'lost' | 'synced'>) {}

  get value (): boolean {
    return this.synced
  }

  update (synced: boolean): void {
    if (synced === this.synced) return
    this.synced = synced
    if (synced) this.events.synced()
    else this.events.lost()
  }
}

/** One Redis, or the master Sentinel names: a single link holds every channel. */
export class SingleSubscriptions implements Subscriptions {
  private readonly link: SubscriberLink
  private readonly state: SyncState

  constructor (client: Redis, events: SubscriptionEvents) {
    this.state = new SyncState(events)
    this.link = new SubscriberLink(client, () => false, {
      changed: () => this.state.update(this.link.isSynced),
      message: events.message,
      moved: () => {}, // only a cluster moves channels
      error: events.error,
      failed: events.failed
    })
  }

  get synced (): boolean {
    return this.state.value
  }

  add (channel: string): Promise<boolean> {
    return this.link.add(channel)
  }

  remove (channel: string): Promise<void> {
    return this.link.remove(channel)
  }

  close (timeoutMs: number): Promise<void> {
    this.link.close()
    return quitWithTimeout(this.link.client, timeoutMs)
  }
}
