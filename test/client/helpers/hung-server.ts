/**
 * A TCP server that hangs, as a proxy's hung upstream would: it accepts connections and does
 * `onConnect` with each (nothing, by default: not even the upgrade is answered). Every socket is
 * destroyed and the server closed at teardown.
 */
import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface HungServer {
  port: number
  /** Every connection made to it, in order. */
  attempts: Socket[]
}

export async function hungServer (t: Teardown, onConnect: (socket: Socket) => void = () => {}): Promise<HungServer> {
  const attempts: Socket[] = []
  const server = createServer(socket => {
    attempts.push(socket)
    socket.on('error', () => {})
    onConnect(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { for (const s of attempts) s.destroy(); server.close() })
  return { port: (server.address() as AddressInfo).port, attempts }
}
