/** Tokens signed in the test, with fast-jwt (what @fastify/jwt verifies with). */
import { createSigner } from 'fast-jwt'

export const SECRET = 'chat-api-auth-test-secret-0123456789'

/** Config of an app with auth on and the test secret. */
export const AUTH_CONFIG = { AUTH_ENABLED: 'true', JWT_SECRET: SECRET, WS_RATE_LIMIT_PER_SEC: 0 }

interface SignOptions {
  secret?: string
  algorithm?: 'HS256' | 'HS384' | 'HS512'
  /** Seconds from now, at least: a token of n s has n to n + 1 s left. Negative: expired at least that long ago. Default: one hour. */
  expiresInSec?: number
}

export function sign (payload: Record<string, unknown>, opts: SignOptions = {}): string {
  const signer = createSigner({
    key: opts.secret ?? SECRET,
    algorithm: opts.algorithm ?? 'HS256',
    noTimestamp: true
  })
  return signer({ exp: expInSec(opts.expiresInSec ?? 3600), ...payload })
}

/**
 * An `exp` (whole seconds) at least `seconds` from now, rounded away from now. Rounding down left
 * a 1 s token 0 to 1 s, which could expire before a loaded machine finished its upgrade.
 */
export function expInSec (seconds: number): number {
  const now = Date.now() / 1000
  return seconds >= 0 ? Math.ceil(now) + seconds : Math.floor(now) + seconds
}

/** A token whose header says `alg: none` and that carries no signature. */
export function unsigned (payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`
}

export function bearer (token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}
