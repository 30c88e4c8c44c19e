/**
 * Presence as the hub uses it: told of each connection that joins a room (once its `joined` was
 * sent) and of each that leaves it (a `leave`, or the socket closing). Messages never come here, so
 * the fan-out pays nothing for presence.
 *
 * Declared here, in the hub that calls it, so that the hub needs nothing from the presence feature
 * above it. The feature (src/presence/presence.ts) widens this interface by declaration merging to
 * its whole `Presence`, as Fastify plugins widen `FastifyInstance`: the routes, sockets and metrics
 * that reach presence through `hub.presence` see all of it, and the hub's own code uses these two.
 */
import type { Connection } from './connection.js'

export interface PresencePort {
  /** The connection is a member of the room now (its `joined` was sent). */
  joined (conn: Connection, room: string): void
  /** The connection left the room, or closed. */
  left (conn: Connection, room: string): void
}
