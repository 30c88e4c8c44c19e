/**
 * Group commit's scheduling: what callers hand in during one event-loop turn is sent together, in
 * one call per group (a Redis, or one hash slot of a Cluster: a script touches one slot), when the
 * turn ends. Never on a timer: a lone item leaves at the end of its own turn, it does not wait for
 * company. The end of the turn is `setImmediate` (the check phase, after every socket read of the
 * poll phase), not a microtask: a microtask would run after each socket's callback, so only the
 * frames of one socket read would share a call (docs/performance.md has the figures).
 *
 * Each item settles on its own: `run` answers one result or Error per item, in order, and an item's
 * Error rejects that item only. A call that fails as a whole (the connection was lost, the command
 * deadline passed) rejects every item of it. A group's items keep the order they came in, and the
 * calls of one group are issued in order, so what one connection carries keeps it too.
 *
 * With `inFlight` set, a group has at most that many calls unanswered: past it, what the turns
 * bring waits and leaves in one call as soon as one is answered (a group commit that grows with
 * the load, the way a database's does). A group with nothing in flight still sends at the end of
 * the turn: nothing waits for company. `flush` sends regardless.
 */

export interface TurnBatchLimits {
  /** Items in one call at most. */
  items: number
  /** A call is closed once its items reach this many bytes (an item bigger than this goes alone). */
  bytes: number
  /** Unanswered calls of one group at most; undefined: no bound (every turn's items leave at its end). */
  inFlight?: number
}

/**
 * How the end of a turn is awaited: `setImmediate`. Mutable only so that bench/group-commit.mjs
 * can measure a microtask against it in the same process.
 */
export const turnEnd: { schedule: (flush: () => void) => void } = { schedule: setImmediate }

export type BatchRun<T, R> = (group: number, items: T[]) => Promise<Array<R | Error>>

interface Waiting<T, R> {
  item: T
  resolve: (result: R) => void
  reject: (err: Error) => void
}

interface Group<T, R> {
  waiting: Array<Waiting<T, R>>
  bytes: number
}

export class TurnBatch<T, R> {
  private groups = new Map<number, Group<T, R>>()
  private scheduled = false
  /** Unanswered calls by group, kept only with `limits.inFlight`. */
  private readonly flying = new Map<number, number>()
  /** Calls sent and items in them, since start: their ratio is the batch size (metrics, tests). */
  calls = 0
  items = 0

  constructor (private readonly run: BatchRun<T, R>, private readonly limits: TurnBatchLimits) {}

  add (group: number, item: T, bytes: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let pending = this.groups.get(group)
      if (pending === undefined) {
        pending = { waiting: [], bytes: 0 }
        this.groups.set(group, pending)
      }
      pending.waiting.push({ item, resolve, reject })
      pending.bytes += bytes
      // A full call leaves now; the rest of the turn starts the next one.
      if (pending.waiting.length >= this.limits.items || pending.bytes >= this.limits.bytes) {
        this.groups.delete(group)
        this.send(group, pending.waiting)
      }
      if (!this.scheduled) {
        this.scheduled = true
        turnEnd.schedule(this.endOfTurn)
      }
    })
  }

  /** The end of a turn: each group's items leave, unless the group has its calls in flight already. */
  private readonly endOfTurn = (): void => this.sendWaiting(false)

  private busy (group: number): boolean {
    const max = this.limits.inFlight
    return max !== undefined && (this.flying.get(group) ?? 0) >= max
  }

  /** A call of the group was answered: what waited for it leaves now. */
  private answered (group: number): void {
    if (this.limits.inFlight === undefined) return
    const left = (this.flying.get(group) ?? 1) - 1
    if (left > 0) this.flying.set(group, left)
    else this.flying.delete(group)
    const pending = this.groups.get(group)
    if (pending === undefined || this.busy(group)) return
    this.groups.delete(group)
    this.send(group, pending.waiting)
  }

  /** Sends what waits now (at shutdown: ahead of the connection's QUIT); the scheduled flush finds nothing. */
  readonly flush = (): void => this.sendWaiting(true)

  /** Sends each group's waiting items; a busy group's wait for an answer unless `force`d (`answered` sends them). */
  private sendWaiting (force: boolean): void {
    this.scheduled = false
    for (const [group, pending] of this.groups) {
      if (!force && this.busy(group)) continue
      this.groups.delete(group)
      this.send(group, pending.waiting)
    }
  }

  private send (group: number, waiting: Array<Waiting<T, R>>): void {
    this.calls++
    this.items += waiting.length
    if (this.limits.inFlight !== undefined) this.flying.set(group, (this.flying.get(group) ?? 0) + 1)
    let answer: Promise<Array<R | Error>>
    try {
      answer = this.run(group, waiting.map(w => w.item))
    } catch (err) {
      answer = Promise.reject(err)
    }
    answer.then(results => {
      for (let i = 0; i < waiting.length; i++) {
        const result = results[i]
        if (result === undefined) waiting[i].reject(new Error('the batch answered fewer results than it was sent items'))
        else if (result instanceof Error) waiting[i].reject(result)
        else waiting[i].resolve(result)
      }
      this.answered(group)
    }, (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err))
      for (const w of waiting) w.reject(error)
      this.answered(group)
    })
  }
}
