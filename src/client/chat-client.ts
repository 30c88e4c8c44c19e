/**
 * A chat-api client for browsers and Node: requests as promises settled by the reply with the same
 * `id`, typed events, and a connection that comes back by itself (exponential back-off with jitter)
 * and rejoins its rooms. See docs/protocol.md for the frames.
 */
import { backoffDelay } from './backoff.js'
import { TypedEmitter } from './emitter.js'
import { ChatError } from './errors.js'
import { Requests, type RequestFrame } from './requests.js'
import { Pacer } from './pacer.js'
import { ReadMarker } from './read-marker.js'
import { randomKey } from './random-key.js'
import { OPEN, resolveWebSocket, type SocketLike } from './socket.js'
import { TokenKeeper } from './token.js'
import type {
  AckFrame, ChatClientEvents, ChatClientOptions, ClientState, HistoryFrame, HistoryOptions, JoinedFrame, LeftFrame,
  PongFrame, PresenceFrame, ReadFrame, RefreshedFrame, RoomPosition, SendOptions, ServerFrame, UnreadFrame, WelcomeFrame
} from './types.js'

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
/** The close code a client reports when it could not even get a token (as browsers report 1006 for a failed connect). */
const TOKEN_FAILED = 1006
const TOKEN_EXPIRED = 4001
const DISCONNECTED_BY_SERVER = 4003
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
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
  /** The last position seen in each room (history on): a rejoin asks for what came after it. */
  readonly positions = new Map<string, RoomPosition>()
  /** The `welcome` of the current connection; null while disconnected. */
  welcome: WelcomeFrame | null = null
  private status: ClientState = 'idle'
  private socket: SocketLike | null = null
  private readonly requests: Requests
  private readonly url: string
  private readonly tokens: TokenKeeper
  /** The token of the current connection (the URL's, then each refresh's). */
  private token: string | undefined
  private attempt = 0
  private everOpened = false
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  private firstOpen: Deferred<WelcomeFrame> | null = null
  private closed: Promise<void> | null = null
  private connectTimer: ReturnType<typeof setTimeout> | undefined = undefined
  /** Paces writes within the server's announced rate limit; null when it announced none. */
  private pacer: Pacer | null = null
  private paceTimer: ReturnType<typeof setTimeout> | null = null
  /** Joins asked for while disconnected, by room: they stand for the room's rejoin at the next `welcome`. */
  private readonly queuedJoins = new Map<string, Promise<unknown>>()
  private readonly reads: ReadMarker

  constructor (private readonly opts: ChatClientOptions) {
    super()
    this.url = opts.url
    this.tokens = new TokenKeeper(opts.token)
    this.rooms = new Set(opts.rooms ?? [])
    this.requests = new Requests(opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
    this.reads = new ReadMarker((room, offset) => this.request({ type: 'read', room, offset }) as Promise<ReadFrame>, opts.readDelayMs)
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

  /**
   * Joins a room; it stays joined across reconnects until `leave`. A rejoin (or a join with
   * `since`) replays what was missed when the server still has it: see the `recovered` and `gap` events.
   */
  async join (room: string, opts: { since?: RoomPosition } = {}): Promise<JoinedFrame> {
    this.rooms.add(room)
    const joined = this.joinRoom(room, opts.since, false)
    if (this.welcome === null) {
      // Written at the next `welcome`, in place of the automatic rejoin of the room: asking twice
      // would get a second `joined`, recovered:false, and a gap that did not happen.
      const settled = joined.then(() => {}, () => {})
      this.queuedJoins.set(room, settled)
      settled.then(() => { if (this.queuedJoins.get(room) === settled) this.queuedJoins.delete(room) })
    }
    return await joined
  }

  /** A join request (`first`: ahead of the queue, for a rejoin) and what its answer says about the room's history. */
  private async joinRoom (room: string, sinceOpt: RoomPosition | undefined, first: boolean): Promise<JoinedFrame> {
    const since = sinceOpt ?? this.positions.get(room)
    try {
      const joined = await this.request(since === undefined ? { type: 'join', room } : { type: 'join', room, since }, first) as JoinedFrame
      if (joined.epoch !== undefined && joined.offset !== undefined) {
        if (joined.recovered !== undefined) {
          this.emit(joined.recovered ? 'recovered' : 'gap', { room, offset: joined.offset, epoch: joined.epoch })
        }
      } else if (since !== undefined) {
        // The server could not say where the room stands (its Redis is down): nothing was replayed.
        this.positions.delete(room)
        this.emit('gap', { room, offset: since.offset, epoch: since.epoch })
      }
      return joined
    } catch (err) {
      // Refused by the server: no use retrying it on every reconnect.
      if (err instanceof ChatError && err.frame !== undefined) this.rooms.delete(room)
      throw err
    }
  }

  async leave (room: string): Promise<LeftFrame> {
    const wanted = this.rooms.delete(room)
    this.positions.delete(room)
    // No socket, so no membership to end: it is simply not rejoined.
    if (wanted && this.welcome === null) return { type: 'left', room }
    return await this.request({ type: 'leave', room }) as LeftFrame
  }

  /**
   * Sends to a joined room; resolves with the `ack` (its `messageId`, and `offset`/`epoch` once
   * stored), rejects on `error`. It settles exactly once: a send whose socket drops before the ack
   * is written again after the reconnect under the same `key`, which the server stores only once.
   * An `unavailable` rejection (the server's Redis is down) carries the key in `err.key`, to send
   * the same message again later.
   */
  async send (room: string, data: unknown, opts: SendOptions = {}): Promise<AckFrame> {
    if (opts.transient === true) return await this.request({ type: 'message', room, data, transient: true }) as AckFrame
    const key = opts.key ?? randomKey()
    try {
      return await this.request({ type: 'message', room, data, key }) as AckFrame
    } catch (err) {
      if (err instanceof ChatError) err.key = key
      throw err
    }
  }

  /** The last stored messages of a room the client may join (membership not needed). */
  async history (room: string, opts: HistoryOptions = {}): Promise<HistoryFrame> {
    return await this.request({ type: 'history', room, ...opts }) as HistoryFrame
  }

  /** Who is in a room the client may join, on every instance (membership not needed); see presence.ts to keep a list live. */
  async presence (room: string): Promise<PresenceFrame> {
    return await this.request({ type: 'presence', room }) as PresenceFrame
  }

  /**
   * Records that this user (auth on) has read `room` up to `offset`. Marks of a room are sent at most
   * once per `readDelayMs`, the highest of them: call it for every message shown. Settles with the
   * server's answer (the cursor now; it only moves forward).
   */
  markRead (room: string, offset: number): Promise<ReadFrame> {
    return this.reads.mark(room, offset)
  }

  /** This user's unread counts: in `rooms`, or every room it has read in. See unread-counts.ts to keep them live. */
  async unread (rooms?: string[]): Promise<UnreadFrame> {
    return await this.request(rooms === undefined ? { type: 'unread' } : { type: 'unread', rooms }) as UnreadFrame
  }

  /** Sends to every connected client (scope `chat:broadcast` when auth is on). */
  async broadcast (data: unknown): Promise<AckFrame> {
    return await this.request({ type: 'broadcast', data }) as AckFrame
  }

  async ping (): Promise<PongFrame> {
    return await this.request({ type: 'ping' }) as PongFrame
  }

  /** Hands the server a fresh token for this connection (done by itself with a token function). */
  async refresh (token: string): Promise<RefreshedFrame> {
    const refreshed = await this.request({ type: 'refresh', token }) as RefreshedFrame
    this.token = token
    return refreshed
  }

  /** Closes the socket and stops reconnecting; pending requests reject with `closed`. */
  close (): Promise<void> {
    return this.shutdown(new ChatError('closed', 'the client is closed'))
  }

  /** Terminal: fails whatever waits with `err` and closes the socket, if any. */
  private shutdown (err: ChatError): Promise<void> {
    if (this.closed !== null) return this.closed
    this.status = 'closed'
    this.tokens.cancel()
    this.reads.cancel(err)
    this.stopPacing()
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

  /** Queues the request; it is written as soon as the socket is welcomed and the pace allows. */
  private request (frame: RequestFrame, first = false): Promise<ServerFrame> {
    if (this.status === 'closed') return Promise.reject(new ChatError('closed', 'the client is closed'))
    const reply = this.requests.add(frame, first)
    this.flush()
    return reply
  }

  /**
   * Writes what is queued, as much as the server's rate limit allows now, and comes back for the
   * rest when the pace allows more. A frame not written stays queued for the next socket.
   */
  private flush (): void {
    const socket = this.socket
    if (this.welcome === null || socket === null || socket.readyState !== OPEN) return
    const pacer = this.pacer
    const frames = this.requests.takeUnsent(pacer === null ? Infinity : pacer.available())
    pacer?.spend(frames.length)
    for (const frame of frames) socket.send(JSON.stringify(frame))
    if (pacer !== null && this.paceTimer === null && this.requests.hasUnsent) {
      this.paceTimer = setTimeout(() => {
        this.paceTimer = null
        this.flush()
      }, pacer.msUntilNext())
    }
  }

  private stopPacing (): void {
    if (this.paceTimer !== null) clearTimeout(this.paceTimer)
    this.paceTimer = null
  }

  private async open (): Promise<void> {
    this.status = 'connecting'
    let socket: SocketLike
    try {
      this.token = await this.tokens.current()
    } catch (err) {
      // The token function failed (its endpoint is offline too, say): a passing failure, so it is
      // retried with the reconnect's backoff like a socket that could not connect.
      if (this.closed !== null) return
      this.emit('error', new ChatError('socket_error', `the token function failed: ${err instanceof Error ? err.message : String(err)}`))
      return this.disconnected(TOKEN_FAILED, 'token function failed')
    }
    try {
      const WebSocketImpl = this.opts.WebSocket ?? await resolveWebSocket()
      if (this.closed !== null) return // close() was called while `ws` or the token loaded
      const url = new URL(this.url)
      if (this.token !== undefined) url.searchParams.set('access_token', this.token)
      socket = new WebSocketImpl(url.toString())
    } catch (err) {
      // A bad URL or a missing `ws` package: retrying cannot help.
      const error = new ChatError('socket_error', err instanceof Error ? err.message : String(err))
      this.emit('error', error)
      await this.shutdown(error)
      return
    }
    this.socket = socket
    // A handshake that never completes (a proxy whose upstream accepted and hangs, a half-open
    // network) would hold the client forever: past the bound it is dropped and retried.
    const connectTimer = setTimeout(() => {
      if (this.socket === socket && this.welcome === null) socket.close()
    }, this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS)
    this.connectTimer = connectTimer
    socket.addEventListener('close', () => clearTimeout(connectTimer))
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
      case 'joined':
        // Here, not when the join's promise settles: messages after `joined` may already be read.
        if (frame.offset !== undefined && frame.epoch !== undefined) this.positions.set(frame.room, { offset: frame.offset, epoch: frame.epoch })
        this.requests.settle(frame)
        return
      case 'message':
        if (frame.offset !== undefined && frame.epoch !== undefined) {
          // Another epoch on a live message: the room's history was lost (Redis restarted empty, a
          // failover that lost writes) and messages may be missing between, as after a `gap` rejoin.
          const last = this.positions.get(frame.room)
          this.positions.set(frame.room, { offset: frame.offset, epoch: frame.epoch })
          if (last !== undefined && last.epoch !== frame.epoch) this.emit('gap', { room: frame.room, offset: frame.offset, epoch: frame.epoch })
        }
        return this.emit('message', frame)
      case 'broadcast': return this.emit('broadcast', frame)
      case 'member_joined': return this.emit('member_joined', frame)
      case 'member_left': return this.emit('member_left', frame)
      case 'read_receipt': return this.emit('read_receipt', frame)
      case 'error':
        if (!this.requests.settle(frame)) this.emit('error', new ChatError(frame.code, frame.message, frame))
        return
      default: this.requests.settle(frame)
    }
  }

  /**
   * Rejoins the wanted rooms first, then writes what was queued while disconnected, paced within
   * the rate limit the server announces.
   */
  private welcomed (welcome: WelcomeFrame): void {
    clearTimeout(this.connectTimer)
    const rate = welcome.rateLimitPerSec
    this.pacer = rate !== undefined && rate > 0 ? new Pacer(rate) : null
    // A join asked for while disconnected is the rejoin of its room.
    const takenOver = this.requests.takeOverRejoins()
    const missing = [...this.rooms].filter(room => !welcome.rooms.includes(room) && !takenOver.has(room))
    // Queued while `welcome` is still null, so that nothing is written before every rejoin is queued first.
    const rejoins: Array<Promise<unknown>> = missing.map(room => this.joinRoom(room, undefined, true).then(() => undefined, (err: ChatError) => {
      if (err.frame !== undefined) this.emit('error', err)
    }))
    for (const room of takenOver) rejoins.push(this.queuedJoins.get(room) ?? Promise.resolve())
    this.welcome = welcome
    // A refresh cut short by a lost socket needs no report: the next connection takes a fresh token.
    this.tokens.schedule(this.token, (token) => this.refresh(token), (err) => { if (err.code !== 'disconnected' && err.code !== 'closed') this.emit('error', err) })
    this.flush()
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

  /**
   * Closes a reconnect cannot undo: a disconnect by the server API (the application removed this
   * user or socket, and coming back at once would defeat it), and an expired fixed token (the same
   * string would be refused again; a token function gets a fresh one, so that one reconnects).
   */
  private final (code: number): boolean {
    return code === DISCONNECTED_BY_SERVER || (code === TOKEN_EXPIRED && !this.tokens.renewable)
  }

  private disconnected (code: number, reason: string): void {
    this.socket = null
    this.welcome = null
    this.tokens.cancel()
    this.stopPacing()
    this.requests.fail(new ChatError('disconnected', `connection closed (${code})`))
    if (this.status === 'closed' || this.opts.reconnect === false || this.final(code)) {
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
