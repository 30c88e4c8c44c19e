/**
 * Lost history is told in-band, and an (epoch, offset) never names two messages. Real Redis
 * processes of this test only: one restarted without its data, one restarted from an older
 * snapshot (what a failover to a replica that missed writes also looks like).
 */
import { test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, eventually, PREFIX } from '../helper.js'
import { adminClient, clusterApp, freePort, statsOf, uniquePrefix } from '../redis-helper.js'

const messagesOf = (frames: any[]) => frames.filter(f => f.type === 'message')

/** A redis-server that keeps its snapshot file, so a restart can load an older state. */
async function snapshotRedis (t: { teardown: (fn: () => unknown) => void }): Promise<{ url: string, start: () => Promise<void>, kill: () => Promise<void> }> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'chat-api-epochs-'))
  let child: ChildProcess | null = null
  const kill = async (): Promise<void> => {
    if (child === null || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }
  const start = async (): Promise<void> => {
    const spawned = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    child = spawned
    await new Promise<void>((resolve, reject) => {
      let log = ''
      spawned.stdout?.on('data', (chunk: Buffer) => {
        log += chunk.toString()
        if (log.includes('Ready to accept connections')) resolve()
      })
      spawned.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log}`)))
    })
  }
  t.teardown(async () => {
    await kill()
    rmSync(dir, { recursive: true, force: true })
  })
  await start()
  return { url: `redis://127.0.0.1:${port}`, start, kill }
}

test('Redis restarted empty: members stay open and the next message arrives in a new epoch at offset 1', async (t) => {
  const redis = await snapshotRedis(t)
  const prefix = uniquePrefix()
  const a = await clusterApp(t, redis.url, prefix)
  const b = await clusterApp(t, redis.url, prefix)
  const sender = await connect(t, `${a.url}/ws/r`)
  const local = await connect(t, `${a.url}/ws/r`)
  const remote = await connect(t, `${b.url}/ws/r`)
  const first = await sender.request({ type: 'message', room: 'r', data: 'before' })
  await remote.next(f => f.type === 'message' && f.data === 'before')

  await redis.kill()
  await eventually(async () => (await statsOf(a.app)).redis === 'reconnecting', 5000)
  await redis.start() // no snapshot was taken: empty
  for (const { app } of [a, b]) await eventually(async () => (await statsOf(app)).redis === 'connected', 10000)

  const after = await sender.request({ type: 'message', room: 'r', data: 'after' })
  t.match(after, { type: 'ack', offset: 1 })
  t.not(after.epoch, first.epoch, 'a new epoch')
  for (const client of [sender, local, remote]) {
    const frame = await client.next(f => f.type === 'message' && f.data === 'after', 10000)
    t.match(frame, { offset: 1, epoch: after.epoch }, 'the new epoch, in-band')
    t.equal(client.closeCode, null, 'still open')
  }
  for (const { app } of [a, b]) {
    const metrics = (await app.inject(`${PREFIX}/metrics`)).body
    t.match(metrics, /^chat_api_epoch_changes_total 1$/m, 'the room\'s epoch change is counted once on each instance')
  }
})

test('Redis restarted from an older snapshot: no (epoch, offset) is handed out twice; the room moves to a new epoch', async (t) => {
  const redis = await snapshotRedis(t)
  const admin = adminClient(t, redis.url)
  const prefix = uniquePrefix()
  const a = await clusterApp(t, redis.url, prefix)
  const b = await clusterApp(t, redis.url, prefix)
  const sender = await connect(t, `${b.url}/ws/r`)
  const member = await connect(t, `${a.url}/ws/r`)
  const acks = []
  for (let i = 1; i <= 3; i++) acks.push(await sender.request({ type: 'message', room: 'r', data: i }))
  await admin.call('SAVE') // the snapshot holds 1..3
  for (let i = 4; i <= 5; i++) acks.push(await sender.request({ type: 'message', room: 'r', data: i }))
  await member.next(f => f.type === 'message' && f.data === 5)

  await redis.kill()
  await eventually(async () => (await statsOf(a.app)).redis === 'reconnecting', 5000)
  await redis.start() // back with 1..3 of the same epoch: 4 and 5 were lost
  for (const { app } of [a, b]) await eventually(async () => (await statsOf(app)).redis === 'connected', 10000)

  const named = new Set(acks.map(ack => `${ack.epoch}/${ack.offset}`))
  const after = await sender.request({ type: 'message', room: 'r', data: 'after' })
  t.equal(after.type, 'ack')
  t.notOk(named.has(`${after.epoch}/${after.offset}`), `a fresh (epoch, offset): ${after.epoch}/${after.offset}`)
  const frame = await member.next(f => f.type === 'message' && f.data === 'after', 10000)
  t.match(frame, { epoch: after.epoch, offset: after.offset })
  t.not(frame.epoch, acks[0].epoch, 'the member hears of the loss by the epoch')
  t.equal(member.closeCode, null, 'still open')
  t.same(messagesOf(member.frames).map(f => f.data), [1, 2, 3, 4, 5, 'after'], 'nothing delivered twice')
})
