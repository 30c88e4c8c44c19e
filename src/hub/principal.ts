/** What a connection may do, as decided by the auth plugin at the upgrade. */
export interface Principal {
  /** The token's `sub`; null when auth is off. */
  user: string | null
  /** The token's `rooms` claim; null means any room. */
  rooms: ReadonlySet<string> | null
  /** True when the token has the `chat:broadcast` scope, or auth is off. */
  canBroadcast: boolean
  /** True when the token has the `chat:publish` scope (the server API), or auth is off. */
  canPublish: boolean
  /** True when the token has the `chat:admin` scope (disconnects, every room in stats), or auth is off. */
  isAdmin: boolean
  /** The token's `exp` in seconds since the epoch; null when it has none, or auth is off. */
  exp: number | null
}

export const ANONYMOUS: Principal = Object.freeze({ user: null, rooms: null, canBroadcast: true, canPublish: true, isAdmin: true, exp: null })

export function mayJoin (principal: Principal, room: string): boolean {
  return principal.rooms === null || principal.rooms.has(room)
}

/**
 * The server API's publishing rights (version 3): a token with a `rooms` claim publishes only to
 * those rooms; without the claim (and with the API key, or auth off) to any.
 */
export const mayPublishTo = mayJoin

/** A token with a `rooms` claim broadcasts through the server API only with `chat:broadcast` too; without the claim, as in version 2. */
export function mayApiBroadcast (principal: Principal): boolean {
  return principal.rooms === null || principal.canBroadcast
}
