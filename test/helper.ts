/**
 * Builds apps for tests with explicit configuration (never the shell's environment), closes them
 * at teardown, and opens real WebSocket clients against them.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import WebSocket from 'ws'
import { buildApp, type ConfigInput } from '../src/app.js'
import type { FastifyInstance } from 'fastify'

export const PREFIX = '/api/chat-api'

/** How long a test waits for a frame or a condition unless it says otherwise (see Client.next). */
export const DEFAULT_WAIT_MS = 15_000

interface Teardown { teardown: (fn: () => unknown) => void }

/** An app that is not listening (for inject); closed at teardown. */
export async function build (t: Teardown, config: ConfigInput = {}): Promise<FastifyInstance> {
  const app = await buildApp({ config })
  t.teardown(() => app.close())
  return app
}

/** An app listening on an ephemeral port of 127.0.0.1, with its ws:// base URL. */
export async function listen (t: Teardown, config: ConfigInput = {}): Promise<{ app: FastifyInstance, url: string, http: string }> {
  const app = await build(t, config)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { app, url: `ws://127.0.0.1:${port}${PREFIX}`, http: `http://127.0.0.1:${port}${PREFIX}` }
}

/**
 * A WebSocket client that records every frame it receives. `next(match)` takes the oldest frame
 * not taken yet that matches, waiting for it if needed, so a test never races the socket.
 */
export class Client {
  readonly frames: any[] = []
  private readonly taken: boolean[] = []
  private waiters: Array<{ match: (f: any) => boolean, resolve: (index: number) => void }> = []
  closeCode: number | null = null
  readonly closed: Promise<number>

  constructor (readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const frame = isBinary ? data : JSON.parse(data.toString())
      const index = this.frames.push(frame) - 1
      this.taken.push(false)
      const waiter = this.waiters.find(w => w.match(frame))
      if (waiter !== undefined) {
        this.waiters = this.waiters.filter(w => w !== waiter)
        waiter.resolve(index)
      }
    })
    this.closed = new Promise(resolve => ws.once('close', (code) => {
      this.closeCode = code
      resolve(code)
    }))
  }

  send (frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /**
   * The oldest frame not taken yet that matches (a string matches the frame type). The default
   * wait is long enough for the last of a burst of 500 messages through Redis to two instances on
   * a loaded 2-core machine; it only delays a failure, never a passing test.
   */
  next (match: string | ((f: any) => boolean), timeoutMs = DEFAULT_WAIT_MS): Promise<any> {
    const pred = typeof match === 'string' ? (f: any) => f.type === match : match
    const index = this.frames.findIndex((f, i) => !this.taken[i] && pred(f))
    if (index !== -1) {
      this.taken[index] = true
      return Promise.resolve(this.frames[index])
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no frame matching ${String(match)} within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`)), timeoutMs)
      this.waiters.push({
        match: pred,
        resolve: (i) => {
          clearTimeout(timer)
          this.taken[i] = true
          resolve(this.frames[i])
        }
      })
    })
  }

  /** Sends a frame with an id and waits for the reply carrying that id. */
  async request (frame: Record<string, unknown>): Promise<any> {
    const id = `r${Math.random().toString(36).slice(2)}`
    this.send({ ...frame, id })
    return this.next(f => f.id === id)
  }

  close (): Promise<number> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close()
    return this.closed
  }
}

/** Opens a socket and waits for its `welcome` frame. */
export async function connect (t: Teardown, url: string, headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(url, { headers })
  const client = new Client(ws)
  t.teardown(() => { ws.terminate() })
  await once(ws, 'open')
  await client.next('welcome')
  return client
}

/** Polls until `check` returns true (for counts that settle after a disconnect); the wait is next()'s. */
export async function eventually (check: () => Promise<boolean> | boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
