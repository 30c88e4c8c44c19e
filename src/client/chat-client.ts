/**
 * A chat-api client for browsers and Node: requests as promises settled by the reply with the same
 * `id`, typed events, and a connection that comes back by itself (exponential back-off with jitter)
 * and rejoins its rooms. See docs/protocol.md for the frames.
 */
import { backoffDelay } from './backoff.js'
import { TypedEmitter } from './emitter.js'
import { ChatError } from './errors.js'
import { Requests, type RequestFrame } from './requests.js'
import { OPEN, resolveWebSocket, type SocketLike } from './socket.js'
import type {
  AckFrame, ChatClientEvents, ChatClientOptions, ClientState, JoinedFrame, LeftFrame, PongFrame,
  ServerFrame, WelcomeFrame
} from './types.js'

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
const NORMAL_CLOSURE = 1000

interface Deferred<T> { promise: Promise<T>, resolve: (value: T) => void, reject: (err: ChatError) => void }

function deferred<T> (): Deferred<T> {
  const d = {} as Deferred<T>
  d.promise = new Promise<T>((resolve, reject) => { d.resolve = resolve; d.reject = reject })
  return d
}

export class ChatClient extends TypedEmitter<ChatClientEvents> {
  /** The rooms this client wants to be in: joined now, or rejoined on the next connection. */
  readonly rooms: Set<string>
  /** The `welcome` of the current connection; null while disconnected. */
  welcome: WelcomeFrame | null = null
  private status: ClientState = 'idle'
  private socket: SocketLike | null = null
  private readonly requests: Requests
  private readonly url: string
  private attempt = 0
  private everOpened = false
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  private firstOpen: Deferred<WelcomeFrame> | null = null
  private closed: Promise<void> | null = null

  constructor (private readonly opts: ChatClientOptions) {
    super()
    const url = new URL(opts.url)
    if (opts.token !== undefined) url.searchParams.set('access_token', opts.token)
    this.url = url.toString()
    this.rooms = new Set(opts.rooms ?? [])
    this.requests = new Requests(opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
  }

  get state (): ClientState {
    return this.status
  }

  /**
   * Opens the connection; resolves with the first `welcome` once the initial rooms are joined.
   * With reconnect on, a server that is down is retried until it answers or `close()` is called.
   */
  connect (): Promise<WelcomeFrame> {
    if (this.firstOpen === null) {
      this.firstOpen = deferred()
      // The caller holds this promise; a rejection after it stopped caring is no crash.
      this.firstOpen.promise.catch(() => {})
      if (this.status === 'closed') this.firstOpen.reject(new ChatError('closed', 'the client is closed'))
      else this.open()
    }
    return this.firstOpen.promise
  }

  /** Joins a room; it stays joined across reconnects until `leave`. */
  async join (room: string): Promise<JoinedFrame> {
    this.rooms.add(room)
    try {
      return await this.request({ type: 'join', room }) as JoinedFrame
    } catch (err) {
      // Refused by the server: no use retrying it on every reconnect.
      if (err instanceof ChatError && err.frame !== undefined) this.rooms.delete(room)
      throw err
    }
  }

  async leave (room: string): Promise<LeftFrame> {
    const wanted = this.rooms.delete(room)
    // No socket, so no membership to end: it is simply not rejoined.
    if (wanted && this.welcome === null) return { type: 'left', room }
    return await this.request({ type: 'leave', room }) as LeftFrame
  }

  /** Sends to a joined room; resolves with the `ack` (its `messageId`), rejects on `error`. */
  async send (room: string, data: unknown): Promise<AckFrame> {
    return await this.request({ type: 'message', room, data }) as AckFrame
  }

  /** Sends to every connected client (scope `chat:broadcast` when auth is on). */
  async broadcast (data: unknown): Promise<AckFrame> {
    return await this.request({ type: 'broadcast', data }) as AckFrame
  }

  async ping (): Promise<PongFrame> {
    return await this.request({ type: 'ping' }) as PongFrame
  }

  /** Closes the socket and stops reconnecting; pending requests reject with `closed`. */
  close (): Promise<void> {
    return this.shutdown(new ChatError('closed', 'the client is closed'))
  }

  /** Terminal: fails whatever waits with `err` and closes the socket, if any. */
  private shutdown (err: ChatError): Promise<void> {
    if (this.closed !== null) return this.closed
    this.status = 'closed'
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = null
    this.requests.fail(err, true)
    this.firstOpen?.reject(err)
    const socket = this.socket
    this.closed = socket === null
      ? Promise.resolve()
      : new Promise(resolve => {
        socket.addEventListener('close', () => resolve())
        socket.close(NORMAL_CLOSURE, 'client closed')
      })
    return this.closed
  }

  /** Queues the request; it is written now if the socket is welcomed, else once it is. */
  private request (frame: RequestFrame): Promise<ServerFrame> {
    if (this.status === 'closed') return Promise.reject(new ChatError('closed', 'the client is closed'))
    const reply = this.requests.add(frame)
    if (this.welcome !== null) this.write(this.requests.takeUnsent())
    return reply
  }

  private write (frames: ReadonlyArray<object>): void {
    const socket = this.socket
    if (socket === null || socket.readyState !== OPEN) return // the close handler fails them
    for (const frame of frames) socket.send(JSON.stringify(frame))
  }

  private async open (): Promise<void> {
    this.status = 'connecting'
    let socket: SocketLike
    try {
      const WebSocketImpl = this.opts.WebSocket ?? await resolveWebSocket()
      if (this.closed !== null) return // close() was called while `ws` loaded
      socket = new WebSocketImpl(this.url)
    } catch (err) {
      // A bad URL or a missing `ws` package: retrying cannot help.
      const error = new ChatError('socket_error', err instanceof Error ? err.message : String(err))
      this.emit('error', error)
      await this.shutdown(error)
      return
    }
    this.socket = socket
    // Events of a socket that was replaced are ignored: they describe a connection already gone.
    socket.addEventListener('message', (event) => { if (this.socket === socket) this.receive(event.data) })
    socket.addEventListener('error', (event) => {
      if (this.socket === socket) this.emit('error', new ChatError('socket_error', event.message ?? 'WebSocket error'))
    })
    socket.addEventListener('close', (event) => { if (this.socket === socket) this.disconnected(event.code, event.reason) })
  }

  private receive (data: unknown): void {
    if (this.status === 'closed') return
    let frame: ServerFrame
    try {
      frame = JSON.parse(String(data))
    } catch {
      return // the server only sends JSON; nothing sensible to do with anything else
    }
    switch (frame.type) {
      case 'welcome': return this.welcomed(frame)
      case 'message': return this.emit('message', frame)
      case 'broadcast': return this.emit('broadcast', frame)
      case 'error':
        if (!this.requests.settle(frame)) this.emit('error', new ChatError(frame.code, frame.message, frame))
        return
      default: this.requests.settle(frame)
    }
  }

  /** Rejoins the wanted rooms first, then writes what was queued while disconnected. */
  private welcomed (welcome: WelcomeFrame): void {
    this.welcome = welcome
    const queued = this.requests.takeUnsent()
    const missing = [...this.rooms].filter(room => !welcome.rooms.includes(room))
    const rejoins = missing.map(room => this.join(room).then(() => undefined, (err: ChatError) => {
      if (err.frame !== undefined) this.emit('error', err)
    }))
    this.write(this.requests.takeUnsent())
    this.write(queued)
    Promise.all(rejoins).then(() => {
      if (this.welcome !== welcome) return // lost again while rejoining
      this.status = 'open'
      this.attempt = 0
      const reconnected = this.everOpened
      this.everOpened = true
      this.emit('open', { welcome, rooms: [...this.rooms], reconnected })
      this.firstOpen?.resolve(welcome)
    })
  }

  private disconnected (code: number, reason: string): void {
    this.socket = null
    this.welcome = null
    this.requests.fail(new ChatError('disconnected', `connection closed (${code})`))
    if (this.status === 'closed' || this.opts.reconnect === false) {
      this.shutdown(new ChatError('disconnected', `connection closed (${code})`))
      this.emit('close', { code, reason, reconnectInMs: null })
      return
    }
    this.status = 'connecting'
    const delay = backoffDelay(this.attempt++, this.opts.reconnect)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      this.open()
    }, delay)
    this.emit('close', { code, reason, reconnectInMs: delay })
  }
}
