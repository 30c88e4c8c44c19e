/**
 * The cross-instance transport behind the hub. The hub always delivers to its own members first;
 * a broker only carries the already-serialised frame to the other instances, and hands what they
 * send to the hub's `deliverRoom` / `deliverAll`.
 */
export type BrokerStatus = 'connected' | 'disabled' | 'reconnecting'

export interface Broker {
  /** Starts receiving a room's frames; resolves once every instance's messages reach us. */
  subscribeRoom (room: string): Promise<void>
  /** Stops receiving a room's frames (the room closed: ROOM_LINGER_MS after its last local member left, local-rooms.ts). */
  unsubscribeRoom (room: string): Promise<void>
  publishRoom (room: string, frame: Buffer): void
  publishAll (frame: Buffer): void
  /** Carries a control payload to the other instances; false when they cannot be reached now. */
  publishControl (payload: Buffer): boolean
  status (): BrokerStatus
  close (): Promise<void>
}

/** Single instance: nothing to carry. */
export class LocalBroker implements Broker {
  async subscribeRoom (): Promise<void> {}
  async unsubscribeRoom (): Promise<void> {}
  publishRoom (): void {}
  publishAll (): void {}
  publishControl (): boolean { return true } // no other instance to reach
  status (): BrokerStatus { return 'disabled' }
  async close (): Promise<void> {}
}
