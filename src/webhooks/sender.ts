/**
 * One attempt to deliver one event: a signed POST to WEBHOOK_URL over a keep-alive pool (undici),
 * the whole exchange bounded by WEBHOOK_TIMEOUT_MS. Only a 2xx acknowledges; the answer's body is
 * read and thrown away so the connection can be reused.
 */
import { Pool } from 'undici'
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

  async send (event: WebhookEvent): Promise<AttemptResult> {
    // Signed at each attempt, with the time of the attempt: receivers refuse old timestamps.
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'chat-api-webhooks',
      ...signatureHeaders(this.opts.key, event.id, Date.now() / 1000, event.body)
    }
    try {
      const answer = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers,
        body: event.body,
        signal: AbortSignal.timeout(this.opts.timeoutMs)
      })
      await answer.body.dump()
      if (answer.statusCode >= 200 && answer.statusCode < 300) return { ok: true }
      return { ok: false, reason: `status ${answer.statusCode}` }
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }
    }
  }

  async close (): Promise<void> {
    await this.pool.destroy()
  }
}
