/**
 * Closes an ioredis client without ever hanging shutdown: QUIT lets Redis answer what is in flight,
 * but a Redis that is down or frozen never answers, so QUIT is raced against a timer and the
 * socket is then dropped.
 */
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Cluster, Redis } from 'ioredis'

export async function quitWithTimeout (client: Redis | Cluster, timeoutMs: number): Promise<void> {
  if (ended(client)) return
  // Not connected: nothing in flight to wait for, and a QUIT would only join the offline queue.
  if (client.status !== 'ready') {
    client.disconnect()
    return
  }
  const ac = new AbortController()
  try {
    // Answered; or the link drops meanwhile (a QUIT queued offline then waits for a reconnect
    // that disconnect() cancels: it is never answered); or Redis is frozen and the timer ends it.
    await Promise.race([
      client.quit(),
      once(client, 'close', { signal: ac.signal }),
      sleep(timeoutMs, undefined, { signal: ac.signal })
    ])
  } catch {
    // Refused (the socket dropped meanwhile), or the race's losers aborted: disconnect() is left.
  } finally {
    ac.abort()
  }
  // Also stops a pending reconnect, which would otherwise keep the process alive.
  if (!ended(client)) client.disconnect()
}

function ended (client: Redis | Cluster): boolean {
  return client.status === 'end'
}
