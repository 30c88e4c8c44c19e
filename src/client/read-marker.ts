/**
 * `markRead` without a frame per message: marks of one room within `delayMs` of the first become
 * one `read` frame, of the highest offset, sent when that time is up. A reader scrolling through
 * 50 messages in a second sends one frame; every caller's promise settles with that frame's answer.
 */
import type { ReadFrame } from './types.js'

type Send = (room: string, offset: number) => Promise<ReadFrame>

interface Pending {
  offset: number
  waiters: Array<{ resolve: (frame: ReadFrame) => void, reject: (err: unknown) => void }>
}

export const DEFAULT_READ_DELAY_MS = 1000

export class ReadMarker {
  private readonly pending = new Map<string, Pending>()
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>()

  constructor (private readonly send: Send, private readonly delayMs = DEFAULT_READ_DELAY_MS) {}

  mark (room: string, offset: number): Promise<ReadFrame> {
    let entry = this.pending.get(room)
    if (entry === undefined) {
      this.pending.set(room, entry = { offset, waiters: [] })
      const timer = setTimeout(() => this.flush(room), this.delayMs)
      this.timers.set(room, timer)
    }
    entry.offset = Math.max(entry.offset, offset)
    const waiting = entry
    return new Promise((resolve, reject) => { waiting.waiters.push({ resolve, reject }) })
  }

  /** Sends every pending mark now (e.g. before the page is hidden). */
  flushAll (): void {
    for (const room of [...this.pending.keys()]) this.flush(room)
  }

  /** Drops what is pending; its promises reject with `err`. */
  cancel (err: unknown): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
    for (const entry of this.pending.values()) for (const w of entry.waiters) w.reject(err)
    this.pending.clear()
  }

  private flush (room: string): void {
    const entry = this.pending.get(room)
    clearTimeout(this.timers.get(room))
    this.timers.delete(room)
    this.pending.delete(room)
    if (entry === undefined) return
    this.send(room, entry.offset).then(
      frame => { for (const w of entry.waiters) w.resolve(frame) },
      err => { for (const w of entry.waiters) w.reject(err) }
    )
  }
}
