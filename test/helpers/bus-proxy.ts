/**
 * A TCP proxy in front of one node's cluster bus port (the node announces the proxy's port, so
 * every other node reaches it through here): `cut` resets its links and refuses new ones for a
 * while, as a network blip or a node busy past half its node timeout does to a bus link.
 */
import { once } from 'node:events'
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net'

export class BusProxy {
  private readonly sockets = new Set<Socket>()
  private refusing = false

  private constructor (private readonly server: Server, readonly port: number) {}

  static async start (target: number): Promise<BusProxy> {
    const server = createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const proxy = new BusProxy(server, (server.address() as { port: number }).port)
    server.on('connection', (inbound) => proxy.accept(inbound, target))
    return proxy
  }

  cut (ms: number): void {
    this.refusing = true
    setTimeout(() => { this.refusing = false }, ms).unref()
    for (const socket of this.sockets) socket.destroy()
  }

  close (): void {
    for (const socket of this.sockets) socket.destroy()
    this.server.close()
  }

  private accept (inbound: Socket, target: number): void {
    if (this.refusing) {
      inbound.destroy()
      return
    }
    const outbound = tcpConnect(target, '127.0.0.1')
    for (const [from, to] of [[inbound, outbound], [outbound, inbound]]) {
      this.sockets.add(from)
      from.on('error', () => {})
      from.on('close', () => { this.sockets.delete(from); to.destroy() })
      from.pipe(to)
    }
  }
}
