// What the demo page's modules share: the client, the room on screen, and the views that follow it.
export const state = {
  /** The page's ChatClient; null before the first join. */
  client: null,
  /** The token the client was made with: another one in the form makes a new client. */
  clientToken: null,
  /** The room on screen; null before the first join. */
  room: null,
  /** The room's live member list (RoomPresence, people.js); null before the first join. */
  people: null,
  /** Unread badges, "seen by" and last seen (read-state.js); null before the first join. */
  reads: null
}

/** Auth is on when the server named this connection's user (`welcome.user`). */
export function authOn () {
  return typeof state.client?.welcome?.user === 'string'
}
