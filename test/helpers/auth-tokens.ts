/** Tokens signed in the test, with fast-jwt (what @fastify/jwt verifies with). */
import { createSigner } from 'fast-jwt'

export const SECRET = 'chat-api-auth-test-secret-0123456789'

/** Config of an app with auth on and the test secret. */
export const AUTH_CONFIG = { AUTH_ENABLED: 'true', JWT_SECRET: SECRET, WS_RATE_LIMIT_PER_SEC: 0 }

interface SignOptions {
  secret?: string
  algorithm?: 'HS256' | 'HS384' | 'HS512'
  /** Seconds from now; negative for an expired token. Default: one hour. */
  expiresInSec?: number
}

export function sign (payload: Record<string, unknown>, opts: SignOptions = {}): string {
  const signer = createSigner({
    key: opts.secret ?? SECRET,
    algorithm: opts.algorithm ?? 'HS256',
    noTimestamp: true
  })
  const exp = Math.floor(Date.now() / 1000) + (opts.expiresInSec ?? 3600)
  return signer({ exp, ...payload })
}

/** A token whose header says `alg: none` and that carries no signature. */
export function unsigned (payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`
}

export function bearer (token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}
