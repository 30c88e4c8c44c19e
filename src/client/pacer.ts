/**
 * Paces the client's writes within the rate limit the server announces in `welcome`
 * (`rateLimitPerSec`): the server's bucket holds twice the rate, refilled at the rate; this one
 * holds the rate itself, refilled alike, so the client stays within the server's bucket with the
 * other half to spare for network jitter that bunches frames up. After a reconnect a queue of
 * resends goes out at the rate instead of at once, so none is refused `rate_limited` and the socket
 * is never closed 1008 for abuse.
 */
export class Pacer {
  private tokens: number
  private last: number

  constructor (private readonly perSec: number, now = Date.now()) {
    this.tokens = perSec
    this.last = now
  }

  /** How many frames may be written now (whole ones). */
  available (now = Date.now()): number {
    // A clock set back must not drain the bucket for good.
    const elapsed = Math.max(0, now - this.last)
    this.tokens = Math.min(this.perSec, this.tokens + elapsed * this.perSec / 1000)
    this.last = now
    return Math.floor(this.tokens)
  }

  spend (frames: number): void {
    this.tokens -= frames
  }

  /** Milliseconds until the next frame may be written. */
  msUntilNext (): number {
    return Math.max(1, Math.ceil((1 - this.tokens) * 1000 / this.perSec))
  }
}
