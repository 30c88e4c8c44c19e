/**
 * The client's requests on their way out. Each waits in the request table (requests.ts) until the
 * socket is welcomed, then is written as fast as the rate limit the server announced allows
 * (pacer.ts); what the pace holds back is written as soon as it allows more. A frame not written
 * stays queued for the next socket.
 */
import { Pacer } from './pacer.js'
import { Requests, type RequestFrame } from './requests.js'
import { OPEN, type SocketLike } from './socket.js'
import type { ChatError } from './errors.js'
import type { ServerFrame } from './types.js'

export class Outbox {
  private readonly requests: Requests
  /** Paces writes within the server's announced rate limit; null when it announced none. */
  private pacer: Pacer | null = null
  private paceTimer: ReturnType<typeof setTimeout> | null = null

  constructor (
    timeoutMs: number,
    /** The socket to write to: null while there is none, or it is not welcomed yet. */
    private readonly writable: () => SocketLike | null
  ) {
    this.requests = new Requests(timeoutMs)
  }

  /** Queues a request (`first`: ahead of the others) and writes what the pace allows now. */
  add (frame: RequestFrame, first: boolean): Promise<ServerFrame> {
    const reply = this.requests.add(frame, first)
    this.flush()
    return reply
  }

  /** A new socket was welcomed with this rate limit (per second; none or 0: no pacing). */
  pace (ratePerSec: number | undefined): void {
    this.pacer = ratePerSec !== undefined && ratePerSec > 0 ? new Pacer(ratePerSec) : null
  }

  /**
   * Writes what is queued, as much as the server's rate limit allows now, and comes back for the
   * rest when the pace allows more.
   */
  flush (): void {
    const socket = this.writable()
    if (socket === null || socket.readyState !== OPEN) return
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

  /**
   * The socket is gone: no paced write is due any more, and the written requests fail with `err`
   * (a keyed send is kept, to be written again on the next socket), or with `all`, every request.
   */
  lost (err: ChatError, all = false): void {
    if (this.paceTimer !== null) clearTimeout(this.paceTimer)
    this.paceTimer = null
    this.requests.fail(err, all)
  }

  /** Settles the request a reply belongs to; false when none waits for it. */
  settle (frame: ServerFrame): boolean {
    return this.requests.settle(frame)
  }

  /** See Requests.takeOverRejoins: the rooms whose queued join stands for their rejoin. */
  takeOverRejoins (): Set<string> {
    return this.requests.takeOverRejoins()
  }
}
