/**
 * The client's token: a string, or an async function asked for a fresh one at every connection
 * and ahead of each token's `exp`, so a long-lived socket outlives a short token (`refresh`
 * frames). Browser-safe: `atob`, no Buffer.
 */
import { ChatError } from './errors.js'

export type TokenSource = string | (() => string | Promise<string>)

/** Refresh this share of a token's remaining life before its `exp`... */
const MARGIN_SHARE = 0.1
/** ...but at least this long before it (clock skew, a slow token endpoint)... */
const MIN_MARGIN_MS = 1_000
/** ...and no earlier than this before it. */
const MAX_MARGIN_MS = 60_000
/**
 * Never refresh sooner than this, whatever the clocks say: a device clock ahead by more than a
 * token's lifetime sees every token as expired already, and would otherwise refresh once per round
 * trip. While that lasts (and the token has no `iat` to tell its lifetime) the wait doubles from
 * here at each refresh, up to MAX_BLIND_INTERVAL_MS.
 */
export const MIN_REFRESH_INTERVAL_MS = 1_000
const MAX_BLIND_INTERVAL_MS = 30_000

/** A JWT's numeric claim (seconds), read without verifying it (the server does); null when absent or unreadable. */
function numericClaim (token: string, name: 'exp' | 'iat'): number | null {
  const payload = token.split('.')[1]
  if (payload === undefined || payload === '') return null
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>
    const value = claims[name]
    return typeof value === 'number' ? value : null
  } catch {
    return null
  }
}

/** A JWT's `exp` (seconds), read without verifying it (the server does); null when absent or unreadable. */
export function tokenExp (token: string): number | null {
  return numericClaim(token, 'exp')
}

/** A token's whole lifetime (`exp - iat`, ms), which no clock skews; null without `iat`. */
export function tokenLifetimeMs (token: string): number | null {
  const exp = numericClaim(token, 'exp')
  const iat = numericClaim(token, 'iat')
  return exp === null || iat === null || exp <= iat ? null : (exp - iat) * 1000
}

/**
 * Milliseconds from `now` until the client should refresh a token expiring at `exp`, never less
 * than MIN_REFRESH_INTERVAL_MS. `now` is the time the server accepted the token (its `refreshed`
 * answer arrived) or the connection was welcomed: the token is valid then, so a remaining life of
 * zero or less means the device clock is ahead, and the token's `lifetimeMs` (when known) stands in.
 */
export function refreshDelayMs (exp: number, now = Date.now(), lifetimeMs: number | null = null): number {
  let remaining = exp * 1000 - now
  if (remaining <= 0 && lifetimeMs !== null) remaining = lifetimeMs
  const margin = Math.min(MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, remaining * MARGIN_SHARE))
  return Math.max(MIN_REFRESH_INTERVAL_MS, remaining - margin)
}

export class TokenKeeper {
  private timer: ReturnType<typeof setTimeout> | null = null
  /** Refreshes in a row whose token the device clock took for expired though the server accepted it. */
  private blind = 0

  constructor (private readonly source: TokenSource | undefined) {}

  /** True with a token function: an expired token can be replaced. */
  get renewable (): boolean {
    return typeof this.source === 'function'
  }

  /** The token for a new connection: the string, or a fresh one from the function. */
  async current (): Promise<string | undefined> {
    return typeof this.source === 'function' ? await this.source() : this.source
  }

  /**
   * With a token function: calls `send` with a fresh token ahead of `token`'s `exp`, and again ahead
   * of each new one's, timed from the server's answer (`refreshed.exp` against when it arrived).
   * A fixed string cannot be renewed: the server closes with 4001 at its `exp`.
   */
  schedule (token: string | undefined, send: (token: string) => Promise<{ exp: number | null }>, onError: (err: ChatError) => void): void {
    this.cancel()
    const exp = token === undefined ? null : tokenExp(token)
    if (typeof this.source !== 'function' || token === undefined || exp === null) return
    this.arm(this.delayMs(token, exp), send, onError)
  }

  /** The wait before the next refresh of `token`, which the server has just accepted. */
  private delayMs (token: string, exp: number): number {
    const now = Date.now()
    const lifetimeMs = tokenLifetimeMs(token)
    if (exp * 1000 > now || lifetimeMs !== null) {
      this.blind = 0
      return refreshDelayMs(exp, now, lifetimeMs)
    }
    // The device clock is ahead by more than the token's life and nothing tells that life: back off.
    return Math.min(MAX_BLIND_INTERVAL_MS, MIN_REFRESH_INTERVAL_MS * 2 ** this.blind++)
  }

  private arm (delayMs: number, send: (token: string) => Promise<{ exp: number | null }>, onError: (err: ChatError) => void): void {
    this.timer = setTimeout(() => {
      this.timer = null
      this.current().then(async (next) => {
        if (next === undefined) return
        const refreshed = await send(next)
        // The server's word on the new token's `exp`, against the time it arrived.
        const exp = refreshed.exp ?? tokenExp(next)
        if (exp !== null) this.arm(this.delayMs(next, exp), send, onError)
      }).catch((err: unknown) => {
        onError(err instanceof ChatError ? err : new ChatError('socket_error', `token refresh failed: ${err instanceof Error ? err.message : String(err)}`))
      })
    }, delayMs)
  }

  cancel (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}
