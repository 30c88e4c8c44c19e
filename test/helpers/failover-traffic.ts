/**
 * Traffic that crosses a Redis failover: senders on several instances send numbered room
 * messages, each with an idempotency key, and resend the same one (same key) until it is acked,
 * as a client that hears `unavailable` would. What every member then received can be checked
 * against what was acked: every offset once, in order, no gap, each sender's messages in the order
 * sent.
 */
import type { Test } from 'tap'
import { connect, eventually, PREFIX, type Client, type listen } from '../helper.js'
import { statsOf } from '../redis-helper.js'

type App = Awaited<ReturnType<typeof listen>>

export interface Traffic {
  /** Stops sending once each sender's message in flight is acked; resolves with the acks. */
  stop (): Promise<Ack[]>
  /** Acks so far. */
  readonly acked: number
}

export interface Ack { s: number, i: number, offset: number, epoch: string, messageId: string }

export function startTraffic (senders: Client[], room: string, tag: string, pauseMs = 10): Traffic {
  const acks: Ack[] = []
  const state = { sending: true }
  const loops = senders.map(async (sender, s) => {
    for (let i = 0; state.sending; i++) {
      for (;;) {
        const reply = await sender.request({ type: 'message', room, data: { tag, s, i }, key: `${tag}-${s}-${i}` }).catch(() => null)
        if (reply?.type === 'ack') {
          acks.push({ s, i, offset: reply.offset, epoch: reply.epoch, messageId: reply.messageId })
          break
        }
        await new Promise(resolve => setTimeout(resolve, 100)) // unavailable (or no answer): resend
      }
      await new Promise(resolve => setTimeout(resolve, pauseMs))
    }
  })
  return {
    async stop () {
      state.sending = false
      await Promise.all(loops)
      return acks
    },
    get acked () { return acks.length }
  }
}

/** The offsets of a room's messages a client received. */
export function offsetsOf (client: Client, room: string): number[] {
  return client.frames.filter(f => f.type === 'message' && f.room === room).map(f => f.offset)
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** How long a failover may take before delivery is back. */
export const FAILOVER_DEADLINE_MS = 10000

export interface FailoverOptions {
  /**
   * Another Redis history takes the room over with HISTORY_MIN_REPLICAS=0: a killed master may
   * take acknowledged messages its replica had not received yet, and even a handover (CLUSTER
   * FAILOVER, a slot migration) leaves the new master unable to tell that nothing was lost. The
   * contract then moves the room to a new epoch (never a second message at an (epoch, offset)
   * someone may have got), so the members' offsets may restart at 1 of a new epoch once;
   * everything else is as strict as a failover that keeps the epoch.
   */
  lossy?: boolean
}

/**
 * Senders and members on both instances in `room` while `fail` runs: delivery must be back within
 * FAILOVER_DEADLINE_MS, and every member get 1..N (every ack) once, in order (per epoch, when the
 * failover may lose acknowledged writes). Says whether the first instance's stats said
 * `reconnecting`, and its `/ready` 503, meanwhile.
 */
export async function acrossFailover (t: Test, [a, b]: App[], room: string, fail: () => Promise<void>, options: FailoverOptions = {}): Promise<{ reconnecting: boolean, notReady: boolean }> {
  const senders = [await connect(t, `${a.url}/ws/${room}`), await connect(t, `${b.url}/ws/${room}`)]
  const members = [await connect(t, `${a.url}/ws/${room}`), await connect(t, `${b.url}/ws/${room}`)]
  const traffic = startTraffic(senders, room, room)
  await eventually(() => traffic.acked >= 20, FAILOVER_DEADLINE_MS)
  // Polls A's stats through the failover: a lost link must show as `reconnecting`.
  let reconnecting = false
  let notReady = false
  const polling = { on: true }
  const poll = (async () => {
    while (polling.on) {
      if ((await statsOf(a.app)).redis === 'reconnecting') reconnecting = true
      if ((await a.app.inject(`${PREFIX}/ready`)).statusCode === 503) notReady = true
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  })()
  const before = Math.max(0, ...offsetsOf(members[1], room))
  const failedAt = Date.now()
  await fail()
  // Delivery is back: B's member hears new messages (sent through both instances).
  await eventually(() => Math.max(0, ...offsetsOf(members[1], room)) >= before + 20, FAILOVER_DEADLINE_MS)
  t.ok(Date.now() - failedAt < FAILOVER_DEADLINE_MS, `delivery back after ${Date.now() - failedAt} ms`)
  await eventually(async () => (await statsOf(a.app)).redis === 'connected' && (await statsOf(b.app)).redis === 'connected', FAILOVER_DEADLINE_MS)
  const acks = await traffic.stop()
  polling.on = false
  await poll
  const named = new Set(acks.map(ack => `${ack.epoch}/${ack.offset}`))
  t.equal(named.size, acks.length, 'every acked message has its own (epoch, offset)')
  const epochs = [...new Set(acks.map(ack => ack.epoch))]
  if (options.lossy === true) t.ok(epochs.length <= 2, `at most one epoch change (${epochs.length - 1})`)
  else t.equal(epochs.length, 1, 'one epoch: nothing was lost')
  const last = epochs[epochs.length - 1]
  const top = Math.max(...acks.filter(ack => ack.epoch === last).map(ack => ack.offset))
  // The epoch the failover ended in holds every offset up to its top: acked ones and no gap.
  t.same(acks.filter(ack => ack.epoch === last).map(ack => ack.offset).sort((x, y) => x - y), range(1, top), 'the acked offsets of the last epoch have no gap')
  for (const member of members) {
    const inLast = (): number[] => member.frames.filter(f => f.type === 'message' && f.room === room && f.epoch === last).map(f => f.offset)
    await eventually(() => inLast().length >= top, FAILOVER_DEADLINE_MS).catch(() => {})
    const runs = epochs.map(epoch => member.frames.filter(f => f.type === 'message' && f.room === room && f.epoch === epoch).map(f => f.offset))
    const heard = member.frames.filter(f => f.type === 'message' && f.room === room).map(f => f.epoch)
    t.same(heard, [...heard].sort((x, y) => epochs.indexOf(x) - epochs.indexOf(y)), 'epochs in order: the new one after the old')
    t.same(runs[0], range(1, runs[0].length), 'each member got 1..N once, in order, across the failover')
    if (runs.length > 1) t.same(runs[1], range(1, top), 'and after an epoch change, 1..N of the new epoch')
    for (const s of [0, 1]) {
      const own = member.frames.filter(f => f.type === 'message' && f.data.s === s).map(f => f.data.i)
      if (epochs.length === 1) t.same(own, range(0, own.length - 1), `sender ${s}'s messages in the order sent`)
      // A lost message is missing, and only one: the rest keep the order sent.
      else t.ok(own.every((i, k) => k === 0 || i > own[k - 1]), `sender ${s}'s messages in the order sent`)
    }
  }
  return { reconnecting, notReady }
}
