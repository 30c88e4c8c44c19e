/**
 * A plain `ws` server that plays a script, for sequences the real server cannot be made to produce
 * on demand (events overtaking an answer, a device clock far ahead). It says `welcome` on each
 * connection and hands every frame the client sends to `onFrame`, which answers as it likes.
 * Closed at teardown.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface ScriptedServer {
  url: string
  /** Every frame received, parsed, in order. */
  frames: any[]
}

export const WELCOME = { type: 'welcome', connectionId: 'me', instanceId: 'i1', rooms: [] as string[], user: null }

export async function scriptedServer (t: Teardown, onFrame: (socket: WebSocket, frame: any) => void, welcome: object = WELCOME): Promise<ScriptedServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await once(wss, 'listening')
  const server: ScriptedServer = { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`, frames: [] }
  wss.on('connection', (socket) => {
    socket.on('message', data => {
      const frame = JSON.parse(data.toString())
      server.frames.push(frame)
      onFrame(socket, frame)
    })
    socket.send(JSON.stringify(welcome))
  })
  t.teardown(() => {
    for (const socket of wss.clients) socket.terminate()
    return new Promise(resolve => wss.close(resolve))
  })
  return server
}

export const reply = (socket: WebSocket, frame: object): void => socket.send(JSON.stringify(frame))
