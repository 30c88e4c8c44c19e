/**
 * A TCP proxy between one instance and Redis that the chaos run can break: `cut` drops every
 * connection and refuses new ones for a while, `stall` forwards nothing either way for a while
 * (the sockets stay open, as in a network that silently holds packets), `reset` sends RST on every
 * connection once. It keeps its port for its whole life, so the instance's REDIS_URL never changes.
 */
import { once } from 'node:events'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

interface Pair { client: Socket, upstream: Socket, held: Array<[Socket, Buffer]> }

export class ChaosProxy {
  private readonly pairs = new Set<Pair>()
  private refusing = false
  private stalled = false
  private constructor (private readonly server: Server, private readonly upstreamPort: number) {}

  static async start (upstreamPort: number): Promise<ChaosProxy> {
    const server = createServer()
    const proxy = new ChaosProxy(server, upstreamPort)
    server.on('connection', (client) => proxy.accept(client))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return proxy
  }

  get port (): number {
    return (this.server.address() as { port: number }).port
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  private accept (client: Socket): void {
    if (this.refusing) {
      client.resetAndDestroy()
      return
    }
    const upstream = connect(this.upstreamPort, '127.0.0.1')
    const pair: Pair = { client, upstream, held: [] }
    this.pairs.add(pair)
    for (const socket of [client, upstream]) {
      socket.on('error', () => {})
      socket.on('close', () => {
        this.pairs.delete(pair)
        client.destroy()
        upstream.destroy()
      })
    }
    // By hand rather than pipe(): a stall holds the chunks (pipe would resume a paused side on drain).
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (this.stalled) pair.held.push([to, chunk])
        else to.write(chunk)
      })
    }
    forward(client, upstream)
    forward(upstream, client)
  }

  /** Every connection dropped, new ones refused for `ms`. */
  async cut (ms: number): Promise<void> {
    this.refusing = true
    for (const { client, upstream } of this.pairs) {
      client.destroy()
      upstream.destroy()
    }
    await sleep(ms)
    this.refusing = false
  }

  /** Nothing forwarded for `ms`; what was held goes through afterwards, in order. */
  async stall (ms: number): Promise<void> {
    this.stalled = true
    await sleep(ms)
    this.stalled = false
    for (const pair of this.pairs) {
      for (const [to, chunk] of pair.held) to.write(chunk)
      pair.held = []
    }
  }

  /** RST on every connection, both ways. */
  reset (): void {
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy()
      upstream.resetAndDestroy()
    }
  }

  async close (): Promise<void> {
    this.refusing = true
    for (const { client, upstream } of this.pairs) {
      client.destroy()
      upstream.destroy()
    }
    await new Promise(resolve => this.server.close(resolve))
  }
}
