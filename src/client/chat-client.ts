/**
 * A chat-api client for browsers and Node: requests as promises settled by the reply with the same
 * `id`, typed events, and a connection that comes back by itself and rejoins its rooms. The parts:
 * link.ts (the socket across reconnects), outbox.ts (requests written within the server's pace),
 * resume.ts (each room's position, rejoin with `since`, gaps). See docs/protocol.md for the frames.
 */
import { deferred, type Deferred } from './deferred.js'
import { TypedEmitter } from './emitter.js'
import { ChatError } from './errors.js'
import { Link } from './link.js'
import { Outbox } from './outbox.js'
import { ReadMarker } from './read-marker.js'
import { randomKey } from './random-key.js'
import type { RequestFrame } from './requests.js'
import { Resume } from './resume.js'
import { TokenKeeper } from './token.js'
import type {
  AckFrame, ChatClientEvents, ChatClientOptions, ClientState, HistoryFrame, HistoryOptions, JoinedFrame, LeftFrame,
  PongFrame, PresenceFrame, ReadFrame, RefreshedFrame, RoomPosition, SendOptions, ServerFrame, UnreadFrame, WelcomeFrame
} from './types.js'

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000

export class ChatClient extends TypedEmitter<ChatClientEvents> {
  /** The rooms this client wants to be in: joined now, or rejoined on the next connection. */
  readonly rooms: Set<string>
  /** The last position seen in each room (history on): a rejoin asks for what came after it. */
  readonly positions = new Map<string, RoomPosition>()
  /** The `welcome` of the current connection; null while disconnected. */
  welcome: WelcomeFrame | null = null
  private status: ClientState = 'idle'
  private readonly tokens: TokenKeeper
  private readonly link: Link
  private readonly outbox: Outbox
  private readonly resume: Resume
  private readonly reads: ReadMarker
  private everOpened = false
  private firstOpen: Deferred<WelcomeFrame> | null = null
  private closed: Promise<void> | null = null

  constructor (opts: ChatClientOptions) {
    super()
    this.tokens = new TokenKeeper(opts.token)
    this.rooms = new Set(opts.rooms ?? [])
    this.link = new Link(opts, this.tokens, {
      data: (data) => this.receive(data),
      error: (err) => this.emit('error', err),
      closed: (code, reason) => this.disconnected(code, reason),
      fatal: (err) => {
        this.emit('error', err)
        this.shutdown(err)
      }
    })
    this.outbox = new Outbox(opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, () => this.welcome === null ? null : this.link.socket)
    this.resume = new Resume({
      rooms: this.rooms,
      positions: this.positions,
      request: (frame, first) => this.request(frame, first),
      emit: (event, payload) => this.emit(event, payload)
    })
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
    return await this.resume.join(room, opts.since, this.welcome !== null)
  }

  async leave (room: string): Promise<LeftFrame> {
    const wanted = this.resume.forget(room)
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
    this.link.token = token
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
    this.outbox.lost(err, true)
    this.firstOpen?.reject(err)
    this.closed = this.link.stop()
    return this.closed
  }

  /** Queues the request; it is written as soon as the socket is welcomed and the pace allows. */
  private request (frame: RequestFrame, first = false): Promise<ServerFrame> {
    if (this.status === 'closed') return Promise.reject(new ChatError('closed', 'the client is closed'))
    return this.outbox.add(frame, first)
  }

  private open (): void {
    this.status = 'connecting'
    this.link.open()
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
        this.resume.joined(frame)
        this.outbox.settle(frame)
        return
      case 'message':
        this.resume.message(frame)
        return this.emit('message', frame)
      case 'broadcast': return this.emit('broadcast', frame)
      case 'member_joined': return this.emit('member_joined', frame)
      case 'member_left': return this.emit('member_left', frame)
      case 'read_receipt': return this.emit('read_receipt', frame)
      case 'error':
        if (!this.outbox.settle(frame)) this.emit('error', new ChatError(frame.code, frame.message, frame))
        return
      default: this.outbox.settle(frame)
    }
  }

  /**
   * Rejoins the wanted rooms first, then writes what was queued while disconnected, paced within
   * the rate limit the server announces.
   */
  private welcomed (welcome: WelcomeFrame): void {
    this.link.welcomed()
    this.outbox.pace(welcome.rateLimitPerSec)
    // A join asked for while disconnected is the rejoin of its room. Rejoins are queued while
    // `welcome` is still null, so that nothing is written before every rejoin is queued first.
    const rejoined = this.resume.rejoin(welcome.rooms, this.outbox.takeOverRejoins())
    this.welcome = welcome
    // A refresh cut short by a lost socket needs no report: the next connection takes a fresh token.
    this.tokens.schedule(this.link.token, (token) => this.refresh(token), (err) => { if (err.code !== 'disconnected' && err.code !== 'closed') this.emit('error', err) })
    this.outbox.flush()
    rejoined.then(() => {
      if (this.welcome !== welcome) return // lost again while rejoining
      this.status = 'open'
      this.link.settled()
      const reconnected = this.everOpened
      this.everOpened = true
      this.emit('open', { welcome, rooms: [...this.rooms], reconnected })
      this.firstOpen?.resolve(welcome)
    })
  }

  /** The socket closed: the client reconnects, unless it was closed or the close ends it (link.ts). */
  private disconnected (code: number, reason: string): void {
    this.welcome = null
    this.tokens.cancel()
    this.outbox.lost(new ChatError('disconnected', `connection closed (${code})`))
    const reconnectInMs = this.status === 'closed' ? null : this.link.retry(code)
    if (reconnectInMs === null) this.shutdown(new ChatError('disconnected', `connection closed (${code})`))
    else this.status = 'connecting'
    this.emit('close', { code, reason, reconnectInMs })
  }
}
