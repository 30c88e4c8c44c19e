/**
 * A TCP proxy to a Redis that can hold what clients send: while held, every client-to-Redis chunk
 * waits (order kept) and nothing is answered, but no connection drops — a stalled link, which no
 * socket error reveals. `release()` lets the held chunks through. `cut()` drops every connection
 * and refuses new ones until `restore()`: a link that is down. `replyDelayMs` delays every answer
 * (order kept): a Redis that far away, as over a network.
 */
import { once } from 'node:events'
import { createServer, connect as tcpConnect, type Socket } from 'node:net'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface HoldingProxy {
  url: string
  hold (): void
  release (): void
  cut (): void
  restore (): void
}

export async function holdingProxy (t: Teardown, redisUrl: string, { replyDelayMs = 0 } = {}): Promise<HoldingProxy> {
  const upstream = new URL(redisUrl)
  const sockets = new Set<Socket>()
  let held: Array<() => void> | null = null
  let refusing = false
  const server = createServer((client) => {
    if (refusing) {
      client.destroy()
      return
    }
    const redis = tcpConnect(Number(upstream.port || 6379), upstream.hostname)
    for (const s of [client, redis]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        redis.destroy()
      })
    }
    client.on('data', (chunk) => {
      if (held === null) redis.write(chunk)
      else held.push(() => redis.write(chunk))
    })
    // Timers of one duration fire in the order they were set: the answers keep theirs.
    if (replyDelayMs > 0) redis.on('data', (chunk) => setTimeout(() => client.write(chunk), replyDelayMs))
    else redis.pipe(client)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    hold: () => { held ??= [] },
    release: () => {
      const waiting = held ?? []
      held = null
      for (const write of waiting) write()
    },
    cut: () => {
      refusing = true
      for (const s of sockets) s.destroy()
    },
    restore: () => { refusing = false }
  }
}
