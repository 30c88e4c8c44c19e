/**
 * The standalone service's hooks: `POST HOOK_URL/<hook>` with the input as JSON, signed as webhooks
 * are (Standard Webhooks, HOOK_SECRET), over keep-alive connections of one undici Pool, so a
 * decision costs a request on an open connection rather than a TCP (and TLS) handshake.
 * See undici's README and docs/api/Pool.md (in node_modules/undici).
 */
import { randomUUID } from 'node:crypto'
import { Pool } from 'undici'
import { signatureHeaders } from '../signing/standard-webhooks.js'
import type { HookName } from './types.js'

/** Keep-alive connections the pool holds to the hook server at most; more calls wait for one. */
const MAX_CONNECTIONS = 64
/** An idle connection is kept this long (the server's own keep-alive, when shorter, wins). */
const KEEP_ALIVE_MS = 30_000

/** A hook answer that was not a 2xx with a JSON body: a failure (HOOK_FAILURE decides). */
export class HookCallError extends Error {}

export class HttpHooks {
  private readonly pool: Pool
  private readonly basePath: string

  constructor (
    url: string,
    private readonly key: Buffer,
    timeoutMs: number,
    /** An answer's body bound: a rewrite may be as large as a message, plus the envelope. */
    private readonly maxAnswerBytes: number
  ) {
    const parsed = new URL(url)
    this.basePath = parsed.pathname.replace(/\/+$/, '')
    this.pool = new Pool(parsed.origin, {
      connections: MAX_CONNECTIONS,
      keepAliveTimeout: KEEP_ALIVE_MS,
      // Both bounds are the hook's deadline; the caller's signal also covers waiting for a connection.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connectTimeout: timeoutMs
    })
  }

  /** The parsed JSON answer; throws HookCallError (or an abort / network error) otherwise. */
  async call (hook: HookName, body: string, signal: AbortSignal): Promise<unknown> {
    const id = `hook_${randomUUID()}`
    const headers = { 'content-type': 'application/json', ...signatureHeaders(this.key, id, Date.now() / 1000, body) }
    const response = await this.pool.request({ path: `${this.basePath}/${hook}`, method: 'POST', headers, body, signal })
    if (response.statusCode < 200 || response.statusCode > 299) {
      // Read and dropped, so the connection goes back to the pool instead of being closed.
      await response.body.dump({ limit: this.maxAnswerBytes }).catch(() => {})
      throw new HookCallError(`answered HTTP ${response.statusCode}`)
    }
    const chunks: Buffer[] = []
    let bytes = 0
    for await (const chunk of response.body) {
      bytes += (chunk as Buffer).length
      if (bytes > this.maxAnswerBytes) {
        response.body.destroy()
        throw new HookCallError(`answered more than ${this.maxAnswerBytes} bytes`)
      }
      chunks.push(chunk as Buffer)
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      throw new HookCallError('answered a body that is not JSON')
    }
  }

  /** Closes the pool's connections without waiting for calls still out (their callers time out). */
  async close (): Promise<void> {
    await this.pool.destroy()
  }
}
