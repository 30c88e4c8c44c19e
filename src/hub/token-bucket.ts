/**
 * Per-connection rate limit: a bucket holding `capacity` tokens (default `2 x ratePerSec`), refilled
 * continuously at `ratePerSec`. Refill is computed lazily from the clock on each take, so an idle connection costs
 * no timer.
 */
export class TokenBucket {
  private tokens: number
  private last: number
  private readonly capacity: number

  constructor (private readonly ratePerSec: number, now = performance.now(), capacity = ratePerSec * 2) {
    this.capacity = capacity
    this.tokens = this.capacity
    this.last = now
  }

  /** Takes one token; false when the bucket is empty. */
  take (now = performance.now()): boolean {
    const refill = ((now - this.last) / 1000) * this.ratePerSec
    this.tokens = Math.min(this.capacity, this.tokens + refill)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
