/**
 * Requests waiting for their reply, by frame id. Each settles once: by the reply with its id
 * (`error` rejects), by its timeout, or by the client failing it when the socket goes away.
 */
import type { ClientFrame, ServerFrame } from '../schemas/frames.js'
import { ChatError } from './errors.js'

interface Pending {
  frame: ClientFrame & { id: number }
  /** Written to a socket; only those are lost when that socket closes. */
  sent: boolean
  /** Written before the others (a rejoin: the queued sends to its room need it first). */
  first: boolean
  resolve: (frame: ServerFrame) => void
  reject: (err: ChatError) => void
  timer: ReturnType<typeof setTimeout>
}

/** A client frame before the table gives it an id. */
export type RequestFrame = ClientFrame extends infer F ? (F extends unknown ? Omit<F, 'id'> : never) : never

export class Requests {
  private readonly pending = new Map<number, Pending>()
  private nextId = 1

  constructor (private readonly timeoutMs: number) {}

  add (frame: RequestFrame, first = false): Promise<ServerFrame> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new ChatError('timeout', `no reply to "${frame.type}" within ${this.timeoutMs} ms`))
      }, this.timeoutMs)
      this.pending.set(id, { frame: { ...frame, id } as Pending['frame'], sent: false, first, resolve, reject, timer })
    })
  }

  /**
   * At most `limit` of the frames not written yet, those marked `first` first, else oldest first;
   * they count as written from now on.
   */
  takeUnsent (limit = Infinity): ClientFrame[] {
    const frames: ClientFrame[] = []
    for (const first of [true, false]) {
      for (const p of this.pending.values()) {
        if (frames.length >= limit) return frames
        if (p.sent || p.first !== first) continue
        p.sent = true
        frames.push(p.frame)
      }
    }
    return frames
  }

  get hasUnsent (): boolean {
    for (const p of this.pending.values()) if (!p.sent) return true
    return false
  }

  /**
   * The rooms of the `join` requests not written yet (asked for while disconnected), each marked to
   * be written first: they stand for the rejoin of their room, which is then not asked for twice.
   */
  takeOverRejoins (): Set<string> {
    const rooms = new Set<string>()
    for (const p of this.pending.values()) {
      if (p.sent || p.frame.type !== 'join') continue
      p.first = true
      rooms.add(p.frame.room)
    }
    return rooms
  }

  /** Settles the request a reply belongs to; false when none waits for it. */
  settle (frame: ServerFrame): boolean {
    const id = 'id' in frame ? frame.id : undefined
    if (typeof id !== 'number') return false
    const p = this.pending.get(id)
    if (p === undefined) return false
    this.pending.delete(id)
    clearTimeout(p.timer)
    if (frame.type === 'error') p.reject(new ChatError(frame.code, frame.message, frame))
    else p.resolve(frame)
    return true
  }

  /**
   * Rejects the written requests (their socket closed) or, with `all`, every request. A written
   * room message with a `key` is kept instead, to be written again on the next socket: the server
   * stores it once whatever the number of tries, so it still settles exactly once.
   */
  fail (err: ChatError, all = false): void {
    for (const [id, p] of this.pending) {
      if (!all && !p.sent) continue
      if (!all && p.frame.type === 'message' && p.frame.key !== undefined && p.frame.transient !== true) {
        p.sent = false
        continue
      }
      this.pending.delete(id)
      clearTimeout(p.timer)
      p.reject(err)
    }
  }
}
