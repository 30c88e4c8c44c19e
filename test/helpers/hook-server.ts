/**
 * A real HTTP hook server for the hook tests: `POST /hooks/<hook>` answered by the test's handler,
 * every request recorded with its exact body and headers. A handler may answer 'hang' (never
 * answer) to play a stuck backend; hung requests are cut at teardown.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface HookCall {
  hook: string
  /** The body exactly as received. */
  raw: string
  body: any
  headers: IncomingHttpHeaders
  /** The client port of the connection it came on: few distinct ones means kept-alive connections. */
  remotePort: number
}

export type HookReply = { status?: number, body?: unknown, raw?: string } | 'hang'
export type HookHandler = (call: HookCall) => HookReply | Promise<HookReply>

/** A fresh Standard Webhooks secret and its key bytes. */
export function hookSecret (): { secret: string, key: Buffer } {
  const key = randomBytes(32)
  return { secret: `whsec_${key.toString('base64')}`, key }
}

export async function hookServer (t: Teardown, handler: HookHandler): Promise<{ url: string, calls: HookCall[] }> {
  const calls: HookCall[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const call: HookCall = { hook: (req.url ?? '').replace(/^\/hooks\//, ''), raw, body: JSON.parse(raw), headers: req.headers, remotePort: req.socket.remotePort ?? 0 }
      calls.push(call)
      Promise.resolve(handler(call)).then(reply => {
        if (reply === 'hang') return
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' })
        res.end(reply.raw ?? JSON.stringify(reply.body ?? { allow: true }))
      }, () => { res.writeHead(500).end() })
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/hooks`, calls }
}
