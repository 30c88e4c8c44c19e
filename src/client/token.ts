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

/** A JWT's `exp` (seconds), read without verifying it (the server does); null when absent or unreadable. */
export function tokenExp (token: string): number | null {
  const payload = token.split('.')[1]
  if (payload === undefined || payload === '') return null
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown }
    return typeof claims.exp === 'number' ? claims.exp : null
  } catch {
    return null
  }
}

/** Milliseconds from `now` until the client should refresh a token expiring at `exp`. */
export function refreshDelayMs (exp: number, now = Date.now()): number {
  const remaining = exp * 1000 - now
  const margin = Math.min(MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, remaining * MARGIN_SHARE))
  return Math.max(0, remaining - margin)
}

export class TokenKeeper {
  private timer: ReturnType<typeof setTimeout> | null = null

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
   * of each new one's. A fixed string cannot be renewed: the server closes with 4001 at its `exp`.
   */
  schedule (token: string | undefined, send: (token: string) => Promise<unknown>, onError: (err: ChatError) => void): void {
    this.cancel()
    const exp = token === undefined ? null : tokenExp(token)
    if (typeof this.source !== 'function' || exp === null) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.current().then(async (next) => {
        if (next === undefined) return
        await send(next)
        this.schedule(next, send, onError)
      }).catch((err: unknown) => {
        onError(err instanceof ChatError ? err : new ChatError('socket_error', `token refresh failed: ${err instanceof Error ? err.message : String(err)}`))
      })
    }, refreshDelayMs(exp))
  }

  cancel (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}
