/**
 * Token expiry of open sockets (auth on). A socket whose token has `exp` is closed with 4001 when
 * it passes, unless a `refresh` frame brought a valid token for the same `sub` first; that token's
 * `rooms` and `scope` apply from then on, and rooms it no longer allows are left.
 *
 * One timer per connection at most, set at the upgrade and reset by each refresh: nothing is
 * checked per message.
 */
import type { Connection } from '../hub/connection.js'
import type { Hub } from '../hub/hub.js'
import { mayJoin } from '../hub/principal.js'
import type { ClaimsResult } from '../auth/claims.js'
import { CloseCode, ErrorCode } from '../protocol.js'

/**
 * What a refresh needs of the auth plugin (its `Auth` decorator has both): declared here, so the
 * socket layer does not import the plugin layer above it.
 */
export interface TokenVerifier {
  enabled: boolean
  /** Checks a token as the upgrade does; with auth off, every token is refused. */
  verify: (token: string) => ClaimsResult
}

export type RefreshOutcome =
  | { ok: true, exp: number | null }
  | { ok: false, code: typeof ErrorCode.UNAUTHORIZED | typeof ErrorCode.FORBIDDEN, message: string }

/** setTimeout's largest delay (about 24.8 days); a later `exp` is reached in several hops. */
const MAX_TIMER_MS = 2 ** 31 - 1

export class TokenExpiry {
  private readonly timers = new Map<Connection, ReturnType<typeof setTimeout>>()

  constructor (
    private readonly auth: TokenVerifier,
    private readonly hub: Pick<Hub, 'leave'>
  ) {}

  /** (Re)arms the connection's timer from its principal's `exp`; no `exp`, no timer. */
  watch (conn: Connection): void {
    this.unwatch(conn)
    const exp = conn.principal.exp
    if (exp === null) return
    const delay = exp * 1000 - Date.now()
    if (delay <= 0) return conn.close(CloseCode.TOKEN_EXPIRED, 'token expired')
    const timer = setTimeout(() => {
      this.timers.delete(conn)
      if (delay > MAX_TIMER_MS) this.watch(conn)
      else conn.close(CloseCode.TOKEN_EXPIRED, 'token expired')
    }, Math.min(delay, MAX_TIMER_MS))
    timer.unref() // a socket's expiry must not keep the process alive
    this.timers.set(conn, timer)
  }

  unwatch (conn: Connection): void {
    const timer = this.timers.get(conn)
    if (timer === undefined) return
    clearTimeout(timer)
    this.timers.delete(conn)
  }

  /** A `refresh` frame: the old expiry stands unless `token` verifies and names the same user. */
  refresh (conn: Connection, token: string): RefreshOutcome {
    if (!this.auth.enabled) return { ok: true, exp: null }
    const result = this.auth.verify(token)
    if ('problem' in result) return { ok: false, code: ErrorCode.UNAUTHORIZED, message: `the refresh token was refused: ${result.problem}` }
    const principal = result.principal
    if (principal.user !== conn.principal.user) {
      return { ok: false, code: ErrorCode.FORBIDDEN, message: 'a refresh token must name the same user ("sub")' }
    }
    conn.principal = principal
    for (const room of [...conn.rooms]) {
      if (!mayJoin(principal, room) && this.hub.leave(conn, room)) conn.sendJson({ type: 'left', room })
    }
    this.watch(conn)
    return { ok: true, exp: principal.exp }
  }
}
