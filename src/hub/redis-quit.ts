/**
 * Closes an ioredis client without ever hanging shutdown: QUIT lets Redis answer what is in flight,
 * but a Redis that is down or frozen never answers, so QUIT is raced against a timer and the
 * socket is then dropped.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Redis } from 'ioredis'

export async function quitWithTimeout (client: Redis, timeoutMs: number): Promise<void> {
  if (ended(client)) return
  const ac = new AbortController()
  try {
    // QUIT is refused at once when the client is not connected (no offline queue), or answered.
    await Promise.race([client.quit(), sleep(timeoutMs, undefined, { signal: ac.signal })])
  } catch {
    // Not connected, or the socket dropped meanwhile: disconnect() below is all that is left to do.
  } finally {
    ac.abort()
  }
  // Also stops a pending reconnect, which would otherwise keep the process alive.
  if (!ended(client)) client.disconnect()
}

function ended (client: Redis): boolean {
  return client.status === 'end'
}
