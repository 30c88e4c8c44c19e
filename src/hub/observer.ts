/**
 * What the hub, the sessions and the connections tell whoever watches them (the metrics plugin).
 * Each call is made once per message or per event, never per recipient, so watching costs the
 * fan-out nothing that grows with the number of members.
 */
import type { BrokerStatus } from './broker.js'
import type { PresencePort } from './presence-port.js'

export type PublishKind = 'room' | 'broadcast' | 'transient' | 'api'

export interface HubObserver {
  /** A message or broadcast `frame` was written to `recipients` local sockets. */
  delivered (recipients: number, frame: Buffer): void
  /**
   * Stored messages a joiner got from the history or from the feed's hold (its catch-up), one
   * socket: deliveries too, but old ones, so they stay out of the lag histogram.
   */
  replayed (frames: number): void
  /** A message was accepted on this instance. */
  published (kind: PublishKind): void
  /** A client frame arrived: its type, or `invalid` when it has none we know. */
  frameReceived (type: string): void
  /** An error frame was sent with this code. */
  errorSent (code: string): void
  /** This instance closed a socket with this code. */
  closed (code: number): void
  /** A room's feed on this instance moved to a new epoch (its history was lost, or rolled back). */
  epochChanged (): void
  /** The Redis subscriber connection came back after a loss. */
  redisReconnected (): void
}

/** What the metrics read from the hub when they are scraped: counts, never the hub's workings. */
export interface HubGauges {
  readonly connections: { readonly size: number }
  readonly roomCount: number
  readonly brokerStatus: BrokerStatus
  readonly presence: PresencePort | null
  /** Bytes written to this instance's sockets (outgoing-frame.ts adds to it). */
  readonly sent: { readonly bytes: number }
}
