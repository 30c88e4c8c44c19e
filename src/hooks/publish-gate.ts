/**
 * The publish hook between one socket and the hub. Each message's hook call starts at once, but
 * the messages of one room are handed on in the order they were sent: a lane per room chains them.
 * A hook that hangs for room A holds only A's lane of this socket; its other rooms, and every
 * other socket, go on. What waits is bounded per socket, in messages and bytes.
 */
import type { Hooks } from './hooks.js'
import type { Decision, PublishInput } from './types.js'

/**
 * Messages of one socket waiting on the publish hook, at most. With the default rate limit a socket
 * has about 100 + 50 x HOOK_TIMEOUT_MS/1000 in flight; the bound is for WS_RATE_LIMIT_PER_SEC=0.
 */
export const MAX_PENDING_PUBLISHES = 1024
/** Their `data` as JSON, at most, in characters: what a socket may make us hold while its hook is slow. */
export const MAX_PENDING_PUBLISH_BYTES = 4 * 1024 * 1024

const SETTLED: Promise<void> = Promise.resolve()

export class PublishGate {
  /** The last message of each room that waits; a room leaves the map once its lane is empty. */
  private readonly lanes = new Map<string, Promise<void>>()
  private pending = 0
  private pendingBytes = 0

  constructor (
    private readonly hooks: Hooks,
    /** Told when `apply` throws (a bug): the lane must go on for the room's next messages. */
    private readonly onUnexpected: (err: unknown) => void
  ) {}

  /**
   * Asks the hook about one message; `apply` gets its decision after the room's earlier messages
   * had theirs. False, and nothing asked, when this socket has too much waiting already.
   */
  submit (input: PublishInput, dataJson: string, apply: (decision: Decision) => void): boolean {
    const bytes = dataJson.length
    if (this.pending >= MAX_PENDING_PUBLISHES || this.pendingBytes + bytes > MAX_PENDING_PUBLISH_BYTES) return false
    this.pending++
    this.pendingBytes += bytes
    const body = publishBody(input, dataJson)
    const decision = this.hooks.decide('publish', input, body)
    const room = input.room
    const lane = (this.lanes.get(room) ?? SETTLED).then(() => decision).then(settled => {
      this.pending--
      this.pendingBytes -= bytes
      if (this.lanes.get(room) === lane) this.lanes.delete(room)
      try {
        apply(settled)
      } catch (err) {
        this.onUnexpected(err)
      }
    })
    this.lanes.set(room, lane)
    return true
  }
}

/** The HTTP body of a publish input, with `data` as the sender's JSON already serialised. */
export function publishBody (input: PublishInput, dataJson: string): string {
  return `{"room":${JSON.stringify(input.room)},"user":${JSON.stringify(input.user)},"connectionId":${JSON.stringify(input.connectionId)},"data":${dataJson},"transient":${input.transient}}`
}
