/**
 * A real webhook receiver for the tests: an HTTP server on a port of its own that records every
 * request (headers, raw body, arrival time) and answers 204. `down()` closes it (connections
 * refused, open ones cut) and `up()` listens again on the same port; `answer` picks the status.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { freePort } from '../redis-helper.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface Received {
  headers: IncomingMessage['headers']
  body: string
  at: number
  json: any
  /** What the receiver answered. */
  status: number
}

export class WebhookReceiver {
  readonly received: Received[] = []
  /** Status answered; 204 by default. */
  answer = 204
  private server: Server | null = null
  private readonly sockets = new Set<Socket>()

  constructor (readonly port: number) {}

  get url (): string {
    return `http://127.0.0.1:${this.port}/hooks/chat`
  }

  async up (): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        let json: any = null
        try { json = JSON.parse(body) } catch {}
        this.received.push({ headers: req.headers, body, at: Date.now(), json, status: this.answer })
        res.statusCode = this.answer
        res.end()
      })
    })
    server.on('connection', socket => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve))
    this.server = server
  }

  async down (): Promise<void> {
    const server = this.server
    if (server === null) return
    this.server = null
    for (const socket of this.sockets) socket.destroy()
    await new Promise(resolve => server.close(resolve))
  }

  /** The events received, parsed, of one type. */
  ofType (type: string): any[] {
    return this.received.filter(r => r.json?.type === type).map(r => r.json)
  }

  /** How many requests each webhook-id got. */
  countsById (): Map<string, number> {
    const counts = new Map<string, number>()
    for (const r of this.received) {
      const id = String(r.headers['webhook-id'])
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    return counts
  }
}

/** A receiver that is up, closed at teardown. */
export async function startReceiver (t: Teardown): Promise<WebhookReceiver> {
  const receiver = new WebhookReceiver(await freePort())
  await receiver.up()
  t.teardown(() => receiver.down())
  return receiver
}

/** A fresh valid secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret (): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}
