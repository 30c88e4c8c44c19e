/**
 * One attempt to deliver one event: a signed POST to WEBHOOK_URL over a keep-alive pool (undici),
 * the whole exchange bounded by WEBHOOK_TIMEOUT_MS. Only a 2xx acknowledges; the answer's body is
 * taken and thrown away so the connection can be reused.
 *
 * Sent with undici's low-level `dispatch` and a handler that only keeps the status: an event is
 * one small request, and `request`'s body stream and per-request AbortSignal cost more than the
 * rest of the send. The deadline is one timer per attempt, which aborts the exchange.
 */
import { Pool } from 'undici'
import type { Dispatcher } from 'undici'
import { signatureHeaders } from '../signing/standard-webhooks.js'
import type { WebhookEvent } from './events.js'

/** Connections to the receiver at most: a slow receiver holds these, nothing more. */
export const MAX_CONNECTIONS = 16

export type AttemptResult = { ok: true } | { ok: false, reason: string }

export interface SenderOptions {
  url: string
  key: Buffer
  timeoutMs: number
}

export class WebhookSender {
  private readonly pool: Pool
  private readonly path: string

  constructor (private readonly opts: SenderOptions) {
    const url = new URL(opts.url)
    this.path = `${url.pathname}${url.search}`
    this.pool = new Pool(url.origin, {
      connections: MAX_CONNECTIONS,
      connect: { timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: 30_000
    })
  }

  send (event: WebhookEvent): Promise<AttemptResult> {
    // Signed at each attempt, with the time of the attempt: receivers refuse old timestamps.
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'chat-api-webhooks',
      ...signatureHeaders(this.opts.key, event.id, Date.now() / 1000, event.body)
    }
    return new Promise(resolve => {
      const exchange = new Exchange(resolve, this.opts.timeoutMs)
      try {
        this.pool.dispatch({ path: this.path, method: 'POST', headers, body: event.body }, exchange)
      } catch (err) {
        exchange.onError(err as Error)
      }
    })
  }

  async close (): Promise<void> {
    await this.pool.destroy()
  }
}

/** One attempt's handler: settles once, with the status, on an error, or at the deadline. */
class Exchange implements Dispatcher.DispatchHandler {
  private status = 0
  private abort: ((err?: Error) => void) | null = null
  private settled = false
  private readonly timer: NodeJS.Timeout

  constructor (private readonly resolve: (result: AttemptResult) => void, timeoutMs: number) {
    this.timer = setTimeout(() => {
      const err = new Error(`no answer within ${timeoutMs} ms`)
      err.name = 'TimeoutError'
      if (this.abort !== null) this.abort(err)
      this.onError(err)
    }, timeoutMs)
  }

  onConnect (abort: (err?: Error) => void): void {
    this.abort = abort
  }

  onHeaders (statusCode: number): boolean {
    this.status = statusCode
    return true
  }

  onData (): boolean {
    return true
  }

  onComplete (): void {
    this.settle(this.status >= 200 && this.status < 300 ? { ok: true } : { ok: false, reason: `status ${this.status}` })
  }

  onError (err: Error): void {
    this.settle({ ok: false, reason: `${err.name}: ${err.message}` })
  }

  private settle (result: AttemptResult): void {
    if (this.settled) return
    this.settled = true
    clearTimeout(this.timer)
    this.resolve(result)
  }
}
