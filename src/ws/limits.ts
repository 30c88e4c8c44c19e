/**
 * What one socket may do per second: frames (over the limit each is refused, and a client that keeps
 * sending at several times the limit is cut off), and joins and leaves that change its rooms.
 */
import { TokenBucket } from '../hub/token-bucket.js'

export interface SessionLimits {
  maxMessageBytes: number
  maxRooms: number
  /** 0 turns the limit off. */
  ratePerSec: number
  /** Joins and leaves a second (WS_JOIN_RATE_PER_SEC); 0 turns the limit off. */
  joinRatePerSec: number
}

/** What to do with a frame over the rate limit: answer `rate_limited`, or close the socket. */
export type OverLimit = 'refuse' | 'cut off'

export class SocketBudget {
  private readonly frames: TokenBucket | null
  /**
   * Joins and leaves that change membership: each one sends a member event to every member of the
   * room, so one socket must not make them at will. It holds a whole connection's rooms at least,
   * so a client that reconnects can rejoin all of them at once.
   */
  private readonly joins: TokenBucket | null
  private rejectedInWindow = 0
  private windowStart = 0

  constructor (readonly limits: SessionLimits) {
    this.frames = limits.ratePerSec > 0 ? new TokenBucket(limits.ratePerSec) : null
    const joinRate = limits.joinRatePerSec
    this.joins = joinRate > 0 ? new TokenBucket(joinRate, performance.now(), Math.max(2 * joinRate, limits.maxRooms)) : null
  }

  /**
   * Takes one frame's token: null when the frame may go on. Over the limit, the socket is cut off
   * once it had more refusals within a second than the bucket holds.
   */
  takeFrame (): OverLimit | null {
    if (this.frames === null || this.frames.take()) return null
    const now = performance.now()
    if (now - this.windowStart >= 1000) {
      this.windowStart = now
      this.rejectedInWindow = 0
    }
    return ++this.rejectedInWindow > this.limits.ratePerSec * 2 ? 'cut off' : 'refuse'
  }

  get frameLimitMessage (): string {
    return `more than ${this.limits.ratePerSec} frames per second`
  }

  /** Takes one join or leave's token: false when the socket changes rooms too fast. */
  mayChangeRooms (): boolean {
    return this.joins === null || this.joins.take()
  }

  get joinLimitMessage (): string {
    return `more than ${this.limits.joinRatePerSec} joins and leaves per second`
  }
}
