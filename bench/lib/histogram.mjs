/**
 * Latency histogram in microseconds: 10 µs buckets up to 2 s, then one overflow bucket; the
 * maximum is kept exactly. Recording is an array increment, so every delivery can be recorded.
 */
const BUCKET_US = 10
const BUCKETS = 200_000

export class Histogram {
  counts = new Uint32Array(BUCKETS + 1)
  total = 0
  maxUs = 0

  record (us) {
    const i = us <= 0 ? 0 : Math.floor(us / BUCKET_US)
    this.counts[i < BUCKETS ? i : BUCKETS]++
    this.total++
    if (us > this.maxUs) this.maxUs = us
  }

  /** The latency (ms) under which `q` (0..1) of the recorded deliveries fall. */
  quantileMs (q) {
    if (this.total === 0) return null
    const rank = Math.ceil(q * this.total)
    let seen = 0
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i]
      if (seen >= rank) return i === BUCKETS ? this.maxUs / 1000 : ((i + 1) * BUCKET_US) / 1000
    }
    return this.maxUs / 1000
  }

  summary () {
    return {
      p50: this.quantileMs(0.5),
      p90: this.quantileMs(0.9),
      p99: this.quantileMs(0.99),
      max: this.total === 0 ? null : this.maxUs / 1000
    }
  }
}
