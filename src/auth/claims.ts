/**
 * A verified token's claims to a Principal: `sub` is the user, `rooms` (array of room names)
 * limits the joinable rooms, and `scope` (space-separated, case-sensitive) grants broadcast.
 * A claim of the wrong type refuses the token: guessing what it meant could grant too much.
 */
import type { Principal } from '../hub/principal.js'
import { ADMIN_SCOPE, BROADCAST_SCOPE, PUBLISH_SCOPE } from '../protocol.js'

/** `claims`: the verified token's payload, for the connect hook. */
export type ClaimsResult = { principal: Principal, claims: Record<string, unknown> } | { problem: string }

export function principalFromClaims (claims: unknown): ClaimsResult {
  if (typeof claims !== 'object' || claims === null) return { problem: 'the token payload is not a JSON object' }
  const { sub, rooms, scope, exp } = claims as Record<string, unknown>

  if (typeof sub !== 'string' || sub === '') return { problem: 'the token has no "sub" claim (a non-empty string)' }
  if (rooms !== undefined && !(Array.isArray(rooms) && rooms.every(room => typeof room === 'string'))) {
    return { problem: 'the "rooms" claim must be an array of room names' }
  }
  if (scope !== undefined && typeof scope !== 'string') {
    return { problem: 'the "scope" claim must be a space-separated string' }
  }

  const scopes = scope === undefined ? [] : scope.split(' ')
  return {
    claims: claims as Record<string, unknown>,
    principal: Object.freeze({
      user: sub,
      rooms: rooms === undefined ? null : new Set(rooms as string[]),
      canBroadcast: scopes.includes(BROADCAST_SCOPE),
      canPublish: scopes.includes(PUBLISH_SCOPE),
      isAdmin: scopes.includes(ADMIN_SCOPE),
      // The verifier already refused a non-numeric `exp`; only a token without one lives forever.
      exp: typeof exp === 'number' ? exp : null
    })
  }
}
