/**
 * Reconnect delays: exponential growth from `baseMs`, capped at `maxMs`, with "equal jitter" (a
 * random point in the upper half of the step). The jitter spreads the clients of a restarted
 * instance over time instead of having them all knock at once; keeping the lower half out keeps
 * the growth, so a dead server is not hammered.
 */
export interface BackoffOptions {
  /** First delay's upper bound, in ms; default 250. */
  baseMs?: number
  /** Largest delay, in ms; default 10000. */
  maxMs?: number
}

export const DEFAULT_BACKOFF_BASE_MS = 250
export const DEFAULT_BACKOFF_MAX_MS = 10_000

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry): in
 * [step / 2, step] where step = min(maxMs, baseMs * 2^attempt). `random` returns [0, 1).
 */
export function backoffDelay (attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const baseMs = opts.baseMs ?? DEFAULT_BACKOFF_BASE_MS
  const maxMs = opts.maxMs ?? DEFAULT_BACKOFF_MAX_MS
  // 2^attempt overflows to Infinity long after the cap is reached; min() keeps it finite.
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt))
  return Math.round(step / 2 + random() * (step / 2))
}
