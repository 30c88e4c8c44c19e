/**
 * A WebSocket server that says `welcome` and then never answers: for requests that must time out,
 * and to see the URL the client opens. Closed at teardown.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface SilentServer {
  url: string
  /** Request URLs of the upgrades, in order. */
  urls: string[]
  /** Frames received, parsed. */
  frames: any[]
  sockets: WebSocket[]
  /** Per socket, its close code once closed. */
  closed: Array<Promise<number>>
}

export async function silentServer (t: Teardown): Promise<SilentServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await once(wss, 'listening')
  const server: SilentServer = { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`, urls: [], frames: [], sockets: [], closed: [] }
  wss.on('connection', (socket, request) => {
    server.urls.push(request.url ?? '')
    server.sockets.push(socket)
    server.closed.push(once(socket, 'close').then(([code]) => code as number))
    socket.on('message', data => server.frames.push(JSON.parse(data.toString())))
    socket.send(JSON.stringify({ type: 'welcome', connectionId: 'c1', instanceId: 'i1', rooms: [], user: null }))
  })
  t.teardown(() => {
    for (const socket of wss.clients) socket.terminate()
    return new Promise(resolve => wss.close(resolve))
  })
  return server
}
