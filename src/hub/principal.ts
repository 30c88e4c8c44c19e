/** What a connection may do, as decided by the auth plugin at the upgrade. */
export interface Principal {
  /** The token's `sub`; null when auth is off. */
  user: string | null
  /** The token's `rooms` claim; null means any room. */
  rooms: ReadonlySet<string> | null
  /** True when the token has the `chat:broadcast` scope, or auth is off. */
  canBroadcast: boolean
}

export const ANONYMOUS: Principal = Object.freeze({ user: null, rooms: null, canBroadcast: true })

export function mayJoin (principal: Principal, room: string): boolean {
  return principal.rooms === null || principal.rooms.has(room)
}
