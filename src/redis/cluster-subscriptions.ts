/**
 * Subscriptions on a Redis Cluster: one subscribing connection per master, each holding the
 * channels whose slot that master owns, all sharded (SSUBSCRIBE): the rooms' and the global ones,
 * so that every message is published on the master that holds its subscriptions (layout.ts). A
 * master gets its link before it holds any channel, and `synced` waits for all of them.
 *
 * The placement follows the slot map of the command connection (an ioredis Cluster, refreshed
 * every `slotsRefreshInterval` and on MOVED): on each refresh a channel whose slot changed owner
 * moves to the new owner's link, a link to a node that is no longer a master is closed, and every
 * link not synced subscribes its channels again. A failover or slot move so shows as: the old link
 * drops or the server SUNSUBSCRIBEs it (`moved`), `synced` is false (stats `reconnecting`, /ready
 * 503), then the new master's link holds the channels and `synced` comes back.
 *
 * We place channels ourselves rather than with ioredis's `shardedSubscribers`: the broker must
 * know when a shard's channels are heard again, to make rooms re-read what they missed.
 */
import type { Cluster, Redis } from 'ioredis'
import { quitWithTimeout } from './quit.js'
import type { RedisLayout } from './layout.js'
import { SubscriberLink } from './subscriber-link.js'
import { SyncState, type SubscriptionEvents, type Subscriptions } from './subscriptions.js'

/** After a `moved`, wait this long for more before asking for the slot map (one ask per burst). */
const MOVED_REFRESH_DELAY_MS = 100

export interface ClusterSubscriptionsOptions {
  cluster: Cluster
  layout: RedisLayout
  /** A subscribing connection to one node (`autoResubscribe: false`, no offline queue). */
  connect (host: string, port: number): Redis
  events: SubscriptionEvents
}

export class ClusterSubscriptions implements Subscriptions {
  private readonly cluster: Cluster
  private readonly layout: RedisLayout
  private readonly connect: ClusterSubscriptionsOptions['connect']
  private readonly events: SubscriptionEvents
  private readonly state: SyncState
  /** Links by node key (`host:port`, as in the cluster's slot map). */
  private readonly links = new Map<string, SubscriberLink>()
  /** Wanted channels whose slot has no known master right now. */
  private readonly homeless = new Set<string>()
  private refreshTimer: NodeJS.Timeout | null = null
  private closed = false

  constructor (opts: ClusterSubscriptionsOptions) {
    this.cluster = opts.cluster
    this.layout = opts.layout
    this.connect = opts.connect
    this.events = opts.events
    this.state = new SyncState(opts.events)
    this.cluster.on('refresh', this.place)
    this.linkEveryMaster()
  }

  get synced (): boolean {
    return this.state.value
  }

  add (channel: string): Promise<boolean> {
    const link = this.linkFor(channel)
    if (link === null) {
      this.homeless.add(channel)
      this.update()
      return Promise.resolve(false)
    }
    const subscribed = link.add(channel)
    // A link not synced (not connected yet, or lost) makes the whole not synced until it is.
    this.update()
    return subscribed
  }

  async remove (channel: string): Promise<void> {
    this.homeless.delete(channel)
    for (const link of this.links.values()) {
      if (link.has(channel)) await link.remove(channel)
    }
    this.update()
  }

  async close (timeoutMs: number): Promise<void> {
    this.closed = true
    this.cluster.off('refresh', this.place)
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer)
    const links = [...this.links.values()]
    this.links.clear()
    for (const link of links) link.close()
    this.update()
    await Promise.all(links.map(link => quitWithTimeout(link.client, timeoutMs)))
  }

  /** Moves each channel to the link of its slot's master; runs on every slot map refresh. */
  private readonly place = (): void => {
    if (this.closed) return
    const masters = new Set(this.cluster.slots.map(nodes => nodes[0]))
    for (const [node, link] of this.links) {
      for (const channel of [...link.holds()]) {
        const owner = this.ownerOf(channel)
        if (owner === node) continue
        // The old node may still hold it (a slot moved between live masters): let it go.
        link.remove(channel).catch(() => {})
        if (owner === undefined) this.homeless.add(channel)
        else this.linkOf(owner).adopt(channel)
      }
      if (!masters.has(node)) {
        this.links.delete(node)
        link.close()
        quitWithTimeout(link.client, 1000).catch(() => {})
      }
    }
    for (const channel of [...this.homeless]) {
      const owner = this.ownerOf(channel)
      if (owner === undefined) continue
      this.homeless.delete(channel)
      this.linkOf(owner).adopt(channel)
    }
    this.linkEveryMaster()
    for (const link of this.links.values()) link.resync()
    this.update()
  }

  /**
   * A link to every master, whether it holds a channel yet or not, so that `synced` (and so
   * /ready, and a booting instance's start) waits for every shard: a room that joins later finds
   * its shard's link up and is subscribed before its `joined`, instead of opening a connection
   * while its members already count on hearing the room.
   */
  private linkEveryMaster (): void {
    for (const node of new Set(this.cluster.slots.map(nodes => nodes[0]))) this.linkOf(node)
  }

  private ownerOf (channel: string): string | undefined {
    return this.cluster.slots[this.layout.slot(channel)]?.[0]
  }

  private linkFor (channel: string): SubscriberLink | null {
    const owner = this.ownerOf(channel)
    return owner === undefined ? null : this.linkOf(owner)
  }

  private linkOf (node: string): SubscriberLink {
    let link = this.links.get(node)
    if (link === undefined) {
      const at = node.lastIndexOf(':')
      const created: SubscriberLink = new SubscriberLink(this.connect(node.slice(0, at), Number(node.slice(at + 1))), this.layout.sharded, {
        changed: () => this.update(),
        message: this.events.message,
        moved: () => this.refreshSoon(),
        error: this.events.error,
        failed: this.events.failed
      })
      link = created
      this.links.set(node, link)
    }
    return link
  }

  /** Synced when no channel is homeless and every link (one per master) is synced. */
  private update (): void {
    if (this.closed) return this.state.update(false)
    let synced = this.homeless.size === 0 && this.links.size > 0
    for (const link of this.links.values()) {
      if (!link.isSynced) synced = false
    }
    this.state.update(synced)
  }

  private refreshSoon (): void {
    if (this.refreshTimer !== null || this.closed) return
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null
      this.cluster.refreshSlotsCache()
    }, MOVED_REFRESH_DELAY_MS)
  }
}
