/**
 * Durable acknowledgements (HISTORY_MIN_REPLICAS): a stored message is acknowledged only once N
 * replicas of its Redis master hold it. Redis's WAIT answers for every write its connection sent
 * before it, so one WAIT covers every append sent before it on that connection: appends that
 * complete while one is out share the next one. WAIT holds its connection until the replicas
 * answer (at most HISTORY_REPLICA_TIMEOUT_MS), so only one is out per connection at a time.
 */
import type { Cluster, Redis } from 'ioredis'

export class ReplicaWaitError extends Error {}

class Batch {
  /** WAITs sent on this connection so far. */
  private sent = 0
  private running: { index: number, done: Promise<void> } | null = null
  private queued: Promise<void> | null = null

  constructor (private readonly conn: Redis, private readonly replicas: number, private readonly timeoutMs: number,
    private readonly commandTimeoutMs: number) {}

  /** Taken once a write was answered: a WAIT sent after this covers it. */
  ticket (): number {
    return this.sent
  }

  wait (ticket: number): Promise<void> {
    if (this.running === null) return this.run()
    if (this.running.index > ticket) return this.running.done
    this.queued ??= this.running.done.then(() => {}, () => {}).then(() => {
      this.queued = null
      return this.run()
    })
    return this.queued
  }

  private run (): Promise<void> {
    const index = ++this.sent
    // A Cluster's node connections carry no command deadline of their own (command-deadline.ts
    // bounds the Cluster's commands, not these direct calls): bounded here, by the WAIT's own
    // timeout and the command deadline on top.
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new ReplicaWaitError('WAIT was not answered in time')), this.timeoutMs + this.commandTimeoutMs)
    })
    const answered = (this.conn.call('WAIT', this.replicas, this.timeoutMs) as Promise<number>).then(held => {
      if (held < this.replicas) throw new ReplicaWaitError(`${held} of ${this.replicas} replicas hold the message after ${this.timeoutMs} ms`)
    })
    const done = Promise.race([answered, bound]).finally(() => clearTimeout(timer))
    answered.catch(() => {}) // the loser of the race
    const running = { index, done }
    this.running = running
    const clear = (): void => { if (this.running === running) this.running = null }
    done.then(clear, clear)
    return done
  }
}

export class ReplicaWaits {
  private readonly batches = new WeakMap<Redis, Batch>()

  constructor (private readonly client: Redis | Cluster, private readonly replicas: number, private readonly timeoutMs: number,
    private readonly commandTimeoutMs: number) {}

  /** The connection that runs the commands of `key` (on a Cluster: the master of its slot). */
  connectionOf (slot: number): Redis | null {
    const client = this.client
    if (!('isCluster' in client) || !client.isCluster) return client as Redis
    const cluster = client as Cluster
    const master = cluster.slots[slot]?.[0]
    return cluster.nodes('master').find(node => `${node.options.host}:${node.options.port}` === master) ?? null
  }

  batchOf (conn: Redis): Batch {
    let batch = this.batches.get(conn)
    if (batch === undefined) {
      batch = new Batch(conn, this.replicas, this.timeoutMs, this.commandTimeoutMs)
      this.batches.set(conn, batch)
    }
    return batch
  }
}
