/**
 * One socket that sends room messages and waits for each one's answer (`ack`, or `error`), for the
 * benches that time acknowledgements (durable-acks.mjs, group-commit.mjs).
 */
import { once } from 'node:events'
import WebSocket from 'ws'

/** Resolves once open to `{ ws, send }`; `send()` sends 100 bytes of data to `room` and resolves to the answer. */
export async function ackSocket (port, room) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/chat-api/ws/${room}`)
  const waiting = new Map()
  ws.on('message', data => {
    const frame = JSON.parse(data)
    const done = waiting.get(frame.id)
    if (done !== undefined && (frame.type === 'ack' || frame.type === 'error')) {
      waiting.delete(frame.id)
      done(frame)
    }
  })
  await once(ws, 'open')
  let id = 0
  const send = () => new Promise(resolve => {
    const frameId = ++id
    waiting.set(frameId, resolve)
    ws.send(JSON.stringify({ type: 'message', room, id: frameId, data: 'x'.repeat(100) }))
  })
  return { ws, send }
}
