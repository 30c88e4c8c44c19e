/**
 * How a heartbeat renews the leases of an instance's members (redis-presence.ts `renew`): room by
 * room, a bounded number of rooms at a time.
 */

/** Leases renewed by one script at most: a huge room is renewed in several, none long for Redis. */
export const RENEW_BATCH = 256

/**
 * Rooms whose renewal is under way at most; the next room's goes out as one is answered. Commands
 * on one connection run in the order sent, so a heartbeat that sent every room's renewal at once
 * put the instance's appends and history reads behind all of them: with 10 000 rooms on an
 * instance, a second of Redis work or more every beat. Now they wait behind this many (tens of
 * ms at most), while a heartbeat still gets through 10 000 rooms in a few round trips: on a
 * starved machine a round trip can take 100 ms, and a smaller window made a beat outlast the
 * leases.
 */
export const RENEW_IN_FLIGHT = 256

/** A room's leases as the renewal script takes them (connectionId, member JSON, ...), RENEW_BATCH per call. */
export function leaseBatches (entries: ReadonlyMap<string, string>): string[][] {
  const batches: string[][] = []
  let batch: string[] = []
  for (const [connectionId, member] of entries) {
    batch.push(connectionId, member)
    if (batch.length === 2 * RENEW_BATCH) {
      batches.push(batch)
      batch = []
    }
  }
  if (batch.length > 0) batches.push(batch)
  return batches
}

/**
 * Starts `renewRoom` for each room in turn, RENEW_IN_FLIGHT rooms at a time, the next as one is
 * done. A room that failed does not stop the others; the first failure rejects once all are done.
 */
export async function renewEachRoom (rooms: readonly string[], renewRoom: (room: string) => Array<Promise<unknown>>): Promise<void> {
  let next = 0
  const failures: unknown[] = []
  const worker = async (): Promise<void> => {
    while (next < rooms.length) {
      for (const outcome of await Promise.allSettled(renewRoom(rooms[next++]))) {
        if (outcome.status === 'rejected') failures.push(outcome.reason)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(RENEW_IN_FLIGHT, rooms.length) }, worker))
  if (failures.length > 0) throw failures[0]
}
