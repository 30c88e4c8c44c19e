/**
 * The members of a chaos run. A typed member is the package's ChatClient (it reconnects, resumes
 * with `since` and resends by key by itself); the frames it receives are logged off the wire by
 * the socket it is handed. A raw member is a bare `ws` socket: it reconnects itself, and either
 * resumes with `since` and sends with keys, or rejoins fresh and sends without keys.
 */
import { randomUUID } from 'node:crypto'
import { WebSocket } from 'ws'
import { ChatClient } from '../../src/client/index.js'
import type { SocketConstructor } from '../../src/client/socket.js'
import type { Entry, MemberLog, Position, Send } from './history-log.js'

/** A raw member comes back this long after its socket closed (or failed to open). */
const RECONNECT_DELAY_MS = 200

/** Logs a server frame the checker reads (welcome, joined, stored messages) into `entries`. */
function logFrame (entries: Entry[], frame: any): void {
  const at = Date.now()
  switch (frame.type) {
    case 'welcome': entries.push({ t: 'welcome', at, connectionId: frame.connectionId }); break
    case 'joined': entries.push({ t: 'joined', at, room: frame.room, offset: frame.offset, epoch: frame.epoch, recovered: frame.recovered }); break
    case 'message':
      if (frame.transient === true) break
      entries.push({ t: 'message', at, room: frame.room, messageId: frame.messageId, offset: frame.offset, epoch: frame.epoch, data: frame.data, ts: frame.ts })
      break
  }
}

function logJoin (entries: Entry[], frame: any): void {
  if (frame.type === 'join') entries.push({ t: 'join', at: Date.now(), room: frame.room, since: frame.since })
}

/** A `ws` socket that logs every frame in and every join out, before the client sees them. */
function loggingSocket (entries: Entry[]): SocketConstructor {
  return class extends WebSocket {
    constructor (url: string) {
      super(url)
      this.on('message', (data) => logFrame(entries, JSON.parse(data.toString())))
      this.on('close', (code) => entries.push({ t: 'close', at: Date.now(), code }))
    }

    send (data: string): void {
      logJoin(entries, JSON.parse(data))
      super.send(data)
    }
  } as unknown as SocketConstructor
}

export interface Member {
  readonly log: MemberLog
  /** Open, welcomed and in its room. */
  readonly ready: boolean
  readonly connectionId: string | null
  sendOne (): void
  close (): Promise<void>
}

export class TypedMember implements Member {
  readonly log: MemberLog
  private readonly chat: ChatClient
  private n = 0

  constructor (name: string, instance: number, wsUrl: string, room: string) {
    this.log = { name, kind: 'typed', room, instance, entries: [], sends: [] }
    const entries = this.log.entries
    this.chat = new ChatClient({
      url: `${wsUrl}/ws`,
      rooms: [room],
      reconnect: { baseMs: 100, maxMs: 1000 },
      // Long enough to span an instance restart: a send that still has no reply is a finding.
      requestTimeoutMs: 30_000,
      WebSocket: loggingSocket(entries)
    })
    this.chat.on('gap', (e) => entries.push({ t: 'gap', at: Date.now(), room: e.room, offset: e.offset, epoch: e.epoch }))
    this.chat.on('error', () => {}) // socket errors during faults are expected; closes are logged
    this.chat.connect().catch(() => {})
  }

  get ready (): boolean {
    return this.chat.state === 'open'
  }

  get connectionId (): string | null {
    return this.chat.welcome?.connectionId ?? null
  }

  sendOne (): void {
    if (!this.ready) return
    const n = ++this.n
    const key = `${this.log.name}-${n}`
    const send: Send = { token: `${this.log.name}:${n}`, key, sentAt: Date.now(), outcome: 'pending' }
    this.log.sends.push(send)
    this.chat.send(this.log.room, { c: this.log.name, n, k: key }, { key }).then((ack) => {
      Object.assign(send, { outcome: 'ack', settledAt: Date.now(), ack: { messageId: ack.messageId, offset: ack.offset, epoch: ack.epoch } })
    }, (err) => {
      Object.assign(send, { outcome: 'error', settledAt: Date.now(), error: String(err.code ?? err.message) })
    })
  }

  async close (): Promise<void> {
    await this.chat.close()
  }
}

export class RawMember implements Member {
  readonly log: MemberLog
  private ws: WebSocket | null = null
  private joined = false
  private welcomeId: string | null = null
  private position: Position | null = null
  private n = 0
  private nextId = 1
  /** Sends of the current socket waiting for their reply, by frame id. */
  private pending = new Map<string, Send>()
  private stopped = false

  constructor (name: string, instance: number, private readonly wsUrl: string, room: string, private readonly resume: boolean, private readonly keyed: boolean) {
    this.log = { name, kind: 'raw', room, instance, entries: [], sends: [] }
    this.open()
  }

  get ready (): boolean {
    return this.joined && this.ws?.readyState === WebSocket.OPEN
  }

  get connectionId (): string | null {
    return this.ready ? this.welcomeId : null
  }

  private open (): void {
    const ws = new WebSocket(`${this.wsUrl}/ws`)
    this.ws = ws
    const entries = this.log.entries
    ws.on('error', () => {})
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString())
      logFrame(entries, frame)
      if (frame.type === 'welcome') {
        this.welcomeId = frame.connectionId
        const since = this.resume && this.position !== null ? this.position : undefined
        const join = since === undefined ? { type: 'join', room: this.log.room } : { type: 'join', room: this.log.room, since }
        logJoin(entries, join)
        ws.send(JSON.stringify(join))
      } else if (frame.type === 'joined') {
        this.joined = true
        if (frame.epoch !== undefined) this.position = { offset: frame.offset, epoch: frame.epoch }
      } else if (frame.type === 'message' && frame.epoch !== undefined) {
        this.position = { offset: frame.offset, epoch: frame.epoch }
      } else if ((frame.type === 'ack' || frame.type === 'error') && this.pending.has(String(frame.id))) {
        const send = this.pending.get(String(frame.id)) as Send
        this.pending.delete(String(frame.id))
        send.settledAt = Date.now()
        if (frame.type === 'ack') Object.assign(send, { outcome: 'ack', ack: { messageId: frame.messageId, offset: frame.offset, epoch: frame.epoch } })
        else Object.assign(send, { outcome: 'error', error: frame.code })
      }
    })
    ws.on('close', (code) => {
      entries.push({ t: 'close', at: Date.now(), code })
      this.joined = false
      for (const send of this.pending.values()) Object.assign(send, { outcome: 'lost', settledAt: Date.now() })
      this.pending = new Map()
      if (!this.stopped) setTimeout(() => { if (!this.stopped) this.open() }, RECONNECT_DELAY_MS)
    })
  }

  sendOne (): void {
    if (!this.ready) return
    const n = ++this.n
    const id = `m${this.nextId++}`
    const key = this.keyed ? `${this.log.name}-${n}-${randomUUID().slice(0, 8)}` : undefined
    const send: Send = { token: `${this.log.name}:${n}`, key, sentAt: Date.now(), outcome: 'pending' }
    this.log.sends.push(send)
    this.pending.set(id, send)
    const frame = { type: 'message', room: this.log.room, id, data: { c: this.log.name, n, k: key }, ...(key === undefined ? {} : { key }) }
    this.ws?.send(JSON.stringify(frame))
  }

  async close (): Promise<void> {
    this.stopped = true
    const ws = this.ws
    if (ws === null || ws.readyState === WebSocket.CLOSED) return
    await new Promise(resolve => {
      ws.once('close', resolve)
      ws.close()
    })
  }
}

/** Every member sends one message each `everyMs`, their starts spread over the period; returns the stop. */
export function startTraffic (members: Member[], everyMs: number): () => void {
  const stops = members.map((member, i) => {
    let timer: ReturnType<typeof setInterval> | undefined
    const first = setTimeout(() => { timer = setInterval(() => member.sendOne(), everyMs) }, (i * everyMs) / members.length)
    return () => {
      clearTimeout(first)
      clearInterval(timer)
    }
  })
  return () => { for (const stop of stops) stop() }
}
