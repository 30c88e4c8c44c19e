/**
 * The in-process queue, without Redis: events live as long as the process (the start-up log says
 * so), and at most MEMORY_QUEUE_MAX of them wait; past that new ones are dropped and counted, so a
 * receiver that is down for long never grows the heap without bound.
 */
import type { WebhookEvent } from './events.js'
import type { HeldEvent, WebhookStore } from './store.js'

export const MEMORY_QUEUE_MAX = 100_000

export class MemoryStore implements WebhookStore {
  readonly durable = false
  private queue: WebhookEvent[] = []
  private head = 0
  private seq = 0

  constructor (private readonly dropped: (event: WebhookEvent) => void, private readonly max = MEMORY_QUEUE_MAX) {}

  async add (events: WebhookEvent[]): Promise<void> {
    for (const event of events) {
      if (this.waiting() >= this.max) this.dropped(event)
      else this.queue.push(event)
    }
  }

  async take (max: number): Promise<HeldEvent[]> {
    const taken: HeldEvent[] = []
    while (taken.length < max && this.head < this.queue.length) {
      taken.push({ ref: String(++this.seq), event: this.queue[this.head++] })
    }
    // Compact now and then, not on every take: shifting a long array is linear.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    return taken
  }

  done (): void {}
  keep (): void {}

  waiting (): number {
    return this.queue.length - this.head
  }

  close (): void {}
}
