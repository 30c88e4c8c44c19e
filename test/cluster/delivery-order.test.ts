/**
 * The ordering promise where no offset helps: with history off, for transient messages and for
 * broadcasts, bursts from several senders on two instances reach every member on both instances
 * once each, and each sender's in the order sent. Each sender's last frame is a marker: once
 * every receiver has it, anything lost, late or repeated from that sender would show.
 */
import { test } from 'tap'
import { connect, type Client } from '../helper.js'
import { clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

/** 4 senders x 125: a burst of 500 frames. */
const SENDERS_PER_INSTANCE = 2
const PER_SENDER = 125

interface Teardown { teardown: (fn: () => unknown) => void }

async function twoInstances (t: Teardown, config: Record<string, unknown> = {}) {
  const prefix = uniquePrefix()
  return [await clusterApp(t, TEST_REDIS_URL, prefix, config), await clusterApp(t, TEST_REDIS_URL, prefix, config)]
}

/** Senders and receivers on both instances, every one in room `r` when `room` is set. */
async function sockets (t: Teardown, instances: Array<{ url: string }>, room: string | null) {
  const path = room === null ? '/ws' : `/ws/${room}`
  const senders: Client[] = []
  const receivers: Client[] = []
  for (const { url } of instances) {
    for (let i = 0; i < SENDERS_PER_INSTANCE; i++) senders.push(await connect(t, `${url}${path}`))
    for (let i = 0; i < 2; i++) receivers.push(await connect(t, `${url}${path}`))
  }
  return { senders, receivers, everyone: [...senders, ...receivers] }
}

/** Every sender's burst, written at once (no waiting for acks), then its marker. */
function burst (senders: Client[], frame: (sender: number, seq: number | 'end') => Record<string, unknown>): void {
  for (let seq = 0; seq < PER_SENDER; seq++) {
    for (let s = 0; s < senders.length; s++) senders[s].send(frame(s, seq))
  }
  for (let s = 0; s < senders.length; s++) senders[s].send(frame(s, 'end'))
}

/** Waits for every sender's marker at `client`, then returns the seqs it got from each sender. */
async function received (client: Client, type: string, senders: number): Promise<Array<Array<number | 'end'>>> {
  for (let s = 0; s < senders; s++) await client.next(f => f.type === type && f.data?.sender === s && f.data?.seq === 'end')
  const bySender: Array<Array<number | 'end'>> = Array.from({ length: senders }, () => [])
  for (const f of client.frames) if (f.type === type && typeof f.data?.sender === 'number') bySender[f.data.sender].push(f.data.seq)
  return bySender
}

const expected = [...Array.from({ length: PER_SENDER }, (_, i) => i), 'end']

test('history off: every member on both instances gets each sender\'s burst once, in order', async (t) => {
  const instances = await twoInstances(t, { HISTORY_SIZE: 0 })
  const { senders, everyone } = await sockets(t, instances, 'r')
  burst(senders, (sender, seq) => ({ type: 'message', room: 'r', data: { sender, seq } }))
  for (const [i, client] of everyone.entries()) {
    const bySender = await received(client, 'message', senders.length)
    t.same(bySender, senders.map(() => expected), `socket ${i}: ${senders.length} x ${PER_SENDER} + marker, each once, in order`)
  }
  const sample = everyone[0].frames.find(f => f.type === 'message')
  t.notOk('offset' in sample || 'epoch' in sample, 'no offset with history off')
})

test('transient messages (history on): once each, in order, never numbered', async (t) => {
  const instances = await twoInstances(t)
  const { senders, everyone } = await sockets(t, instances, 'r')
  burst(senders, (sender, seq) => ({ type: 'message', room: 'r', data: { sender, seq }, transient: true }))
  for (const [i, client] of everyone.entries()) {
    const bySender = await received(client, 'message', senders.length)
    t.same(bySender, senders.map(() => expected), `socket ${i}: each once, in order`)
    const frames = client.frames.filter(f => f.type === 'message')
    t.ok(frames.every(f => f.transient === true && !('offset' in f) && !('epoch' in f)), 'transient, with no offset or epoch')
  }
})

test('broadcasts from several senders reach every socket of both instances once, in order', async (t) => {
  const instances = await twoInstances(t)
  // Broadcasts go to every socket, in a room or not.
  const { senders, everyone } = await sockets(t, instances, null)
  burst(senders, (sender, seq) => ({ type: 'broadcast', data: { sender, seq } }))
  for (const [i, client] of everyone.entries()) {
    const bySender = await received(client, 'broadcast', senders.length)
    t.same(bySender, senders.map(() => expected), `socket ${i}: every sender's broadcasts once, in order`)
  }
  t.equal(everyone.flatMap(c => c.frames).filter(f => f.type === 'error').length, 0, 'no broadcast was refused')
})
