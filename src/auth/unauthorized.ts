/**
 * The 401 of chat-api: `{ error: "unauthorized", message }`, the message saying what was wrong
 * with the token and never quoting it.
 */
export const UNAUTHORIZED = 'unauthorized'

export const MISSING_TOKEN = 'a token is required: "Authorization: Bearer <token>" or ?access_token=<token>'
export const MALFORMED_HEADER = 'the Authorization header must be "Bearer <token>"'
export const MALFORMED_QUERY = 'access_token must be given once'

/**
 * fast-jwt's error codes, spelled here since fast-jwt is @fastify/jwt's dependency, not ours. Its
 * own messages are not passed on: some quote claim values.
 */
const REASONS: Record<string, string> = {
  FAST_JWT_EXPIRED: 'the token has expired',
  FAST_JWT_INACTIVE: 'the token is not valid yet (nbf)',
  FAST_JWT_MALFORMED: 'the token is malformed',
  FAST_JWT_INVALID_TYPE: 'the token is malformed',
  FAST_JWT_INVALID_PAYLOAD: 'the token is malformed',
  FAST_JWT_INVALID_SIGNATURE: 'the token signature is invalid',
  FAST_JWT_MISSING_SIGNATURE: 'the token is not signed',
  FAST_JWT_INVALID_ALGORITHM: 'the token must be signed with HS256',
  FAST_JWT_INVALID_CLAIM_TYPE: 'the token has a claim of the wrong type',
  FAST_JWT_INVALID_CLAIM_VALUE: 'the token has an invalid claim value (aud and iss must be the ones this service expects)',
  FAST_JWT_MISSING_REQUIRED_CLAIM: 'the token lacks a claim this service requires (aud or iss)'
}

/** Whatever the verifier threw: the token is unusable, and the message says why if it can. */
export function reasonOf (error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return (typeof code === 'string' ? REASONS[code] : undefined) ?? 'the token could not be verified'
}
