/**
 * The client's socket across reconnects: takes a token, opens the socket, drops a handshake that
 * hangs past the connect timeout, and after a close either opens the next socket after a back-off
 * with jitter (backoff.ts), unless the close is one a reconnect cannot undo.
 * Events of a socket that was replaced are ignored: they describe a connection already gone.
 */
import { backoffDelay } from './backoff.js'
import { ChatError } from './errors.js'
import { resolveWebSocket, type SocketLike } from './socket.js'
import type { TokenKeeper } from './token.js'
import type { ChatClientOptions } from './types.js'

/** The close code a client reports when it could not even get a token (as browsers report 1006 for a failed connect). */
const TOKEN_FAILED = 1006
/** The close code a client reports for a connect that timed out (a browser reports 1006 for one that failed). */
const HANDSHAKE_TIMED_OUT = 1006
const TOKEN_EXPIRED = 4001
const DISCONNECTED_BY_SERVER = 4003
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
const NORMAL_CLOSURE = 1000
/**
 * How long `stop` waits for the server's answer to the closing handshake. A peer that never answers
 * (a proxy's hung upstream, a half-open network) would hold it for `ws`'s 30 s; past this the
 * socket is dropped where it can be (`ws`), and left to the platform where it cannot (a browser).
 */
const CLOSE_WAIT_MS = 2000

export interface LinkEvents {
  /** A message of the current socket. */
  data: (data: unknown) => void
  error: (err: ChatError) => void
  /** The current socket closed, or the token to open one could not be had. */
  closed: (code: number, reason: string) => void
  /** No socket can be made (a bad URL, no `ws` package): retrying cannot help. */
  fatal: (err: ChatError) => void
}

export class Link {
  /** The current socket; null between sockets. */
  socket: SocketLike | null = null
  /** The token of the current connection (the URL's, then each refresh's). */
  token: string | undefined
  private attempt = 0
  private stopped = false
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  private connectTimer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor (
    private readonly opts: ChatClientOptions,
    private readonly tokens: TokenKeeper,
    private readonly on: LinkEvents
  ) {}

  async open (): Promise<void> {
    let socket: SocketLike
    try {
      this.token = await this.tokens.current()
    } catch (err) {
      // The token function failed (its endpoint is offline too, say): a passing failure, so it is
      // retried with the reconnect's backoff like a socket that could not connect.
      if (this.stopped) return
      this.on.error(new ChatError('socket_error', `the token function failed: ${err instanceof Error ? err.message : String(err)}`))
      return this.lost(TOKEN_FAILED, 'token function failed')
    }
    try {
      const WebSocketImpl = this.opts.WebSocket ?? await resolveWebSocket()
      if (this.stopped) return // stopped while `ws` or the token loaded
      const url = new URL(this.opts.url)
      if (this.token !== undefined) url.searchParams.set('access_token', this.token)
      socket = new WebSocketImpl(url.toString())
    } catch (err) {
      // A bad URL or a missing `ws` package: retrying cannot help.
      return this.on.fatal(new ChatError('socket_error', err instanceof Error ? err.message : String(err)))
    }
    this.socket = socket
    // A handshake that never completes (a proxy whose upstream accepted and hangs, a half-open
    // network) would hold the client forever: past the bound it is dropped and retried. Dropped at
    // once, not when the socket reports its close: a socket upgraded but never welcomed may not
    // answer a close frame either, and `ws` waits 30 s for that answer before it gives up.
    const connectTimer = setTimeout(() => {
      if (this.socket !== socket) return
      this.lost(HANDSHAKE_TIMED_OUT, 'no welcome within the connect timeout')
      socket.close()
    }, this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS)
    this.connectTimer = connectTimer
    socket.addEventListener('close', () => clearTimeout(connectTimer))
    socket.addEventListener('message', (event) => { if (this.socket === socket) this.on.data(event.data) })
    socket.addEventListener('error', (event) => {
      if (this.socket === socket) this.on.error(new ChatError('socket_error', event.message ?? 'WebSocket error'))
    })
    socket.addEventListener('close', (event) => { if (this.socket === socket) this.lost(event.code, event.reason) })
  }

  /** The server welcomed the current socket: the handshake is over. */
  welcomed (): void {
    clearTimeout(this.connectTimer)
  }

  /** Back in every room: the next loss starts the back-off from its first step. */
  settled (): void {
    this.attempt = 0
  }

  /**
   * After a close with `code`: opens the next socket after the back-off and returns its delay in
   * ms, or null for a close that ends the client. Those are: reconnect off, a disconnect by the
   * server API (the application removed this user or socket, and coming back at once would defeat
   * it), and an expired fixed token (the same string would be refused again; a token function gets
   * a fresh one, so that one reconnects).
   */
  retry (code: number): number | null {
    const reconnect = this.opts.reconnect
    if (reconnect === false || code === DISCONNECTED_BY_SERVER || (code === TOKEN_EXPIRED && !this.tokens.renewable)) return null
    const delay = backoffDelay(this.attempt++, reconnect)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      this.open()
    }, delay)
    return delay
  }

  /** Opens nothing more, and closes the socket, if any: settles once it closed, or CLOSE_WAIT_MS later. */
  stop (): Promise<void> {
    this.stopped = true
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = null
    clearTimeout(this.connectTimer)
    const socket = this.socket
    if (socket === null) return Promise.resolve()
    return new Promise(resolve => {
      const unanswered = setTimeout(() => {
        socket.terminate?.()
        resolve()
      }, CLOSE_WAIT_MS)
      socket.addEventListener('close', () => {
        clearTimeout(unanswered)
        resolve()
      })
      socket.close(NORMAL_CLOSURE, 'client closed')
    })
  }

  private lost (code: number, reason: string): void {
    this.socket = null
    this.on.closed(code, reason)
  }
}
