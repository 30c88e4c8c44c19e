#!/usr/bin/env node
/**
 * What the webhook path costs per event, alone: `message.stored` events raised at a fixed rate go
 * through the queue in Redis, the dispatcher and the signed POST to a receiver process that answers
 * 204 at once, as in the service. Reports the CPU (user + system) of the sending process per event
 * and of the receiver per event, medians of interleaved rounds, for one or more builds: pass their
 * `dist` folders (a baseline first, built from another checkout), each compared with the first.
 * `--no-http` leaves out the POST (the queue's share alone).
 *
 *   npm run build && node bench/webhook-path.mjs [--rate 4000] [--seconds 4] [--rounds 3] [--no-http] [DIST ...]
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { findOrStartRedis } from './lib/redis.mjs'
import { median } from './lib/stats.mjs'
import { startWebhookSink } from './lib/webhook-sink.mjs'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rate: { type: 'string', default: '4000' },
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    'no-http': { type: 'boolean', default: false },
    child: { type: 'string' },
    redis: { type: 'string' }
  }
})

const cpuUs = (usage) => usage.user + usage.system

/** One measured run of one build, in a process of its own (printed as one JSON line). */
async function child (dist, redisUrl) {
  const { RedisStore } = await import(`${dist}/webhooks/redis-store.js`)
  const { Dispatcher } = await import(`${dist}/webhooks/dispatcher.js`)
  const { WebhookSender } = await import(`${dist}/webhooks/sender.js`)
  const { Webhooks } = await import(`${dist}/webhooks/webhooks.js`)
  const receiver = await startWebhookSink()
  const client = new Redis(redisUrl)
  const log = { warn () {}, info () {}, debug () {}, error (...args) { console.error(...args) } }
  const prefix = `webhook-path-${randomBytes(4).toString('hex')}`
  const store = new RedisStore({ client, prefix, consumer: 'bench', log })
  const sender = new WebhookSender({ url: `http://127.0.0.1:${receiver.port}/hooks`, key: randomBytes(32), timeoutMs: 5000 })
  let answered = 0
  const dispatcher = new Dispatcher({
    store,
    send: values['no-http'] ? async () => ({ ok: true }) : event => sender.send(event),
    maxRetryDelayMs: 60_000,
    retryForMs: 86_400_000,
    counted: (_type, result) => { if (result === 'ok') answered++ },
    log
  })
  const webhooks = new Webhooks({ store, dispatcher, types: new Set(['message.stored']), counted: () => {}, log })
  dispatcher.start()
  await client.ping()

  const rate = Number(values.rate)
  const total = rate * Number(values.seconds)
  const data = JSON.stringify({ text: 'x'.repeat(80), n: 1 })
  const receiverBefore = await receiver.cpuUs()
  const started = performance.now()
  const cpuBefore = process.cpuUsage()
  let raised = 0
  await new Promise(resolve => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - started) / 1000 * rate))
      for (; raised < due; raised++) webhooks.messageStored('room-1', `m-${raised}`, raised + 1, 'E', '{"user":"u"}', data, undefined)
      if (raised === total) {
        clearInterval(tick)
        resolve()
      }
    }, 2)
  })
  await new Promise(resolve => {
    const poll = setInterval(() => { if (answered >= total) { clearInterval(poll); resolve() } }, 10)
  })
  const senderUs = cpuUs(process.cpuUsage(cpuBefore)) / total
  const receiverUs = (await receiver.cpuUs() - receiverBefore) / total
  console.log(JSON.stringify({ senderUs, receiverUs, seconds: (performance.now() - started) / 1000 }))
  dispatcher.close()
  await sender.close()
  await client.del(`${prefix}:{webhooks}:queue`)
  client.disconnect()
  receiver.kill()
}

async function runChild (dist, redisUrl) {
  const args = [fileURLToPath(import.meta.url), '--child', dist, '--redis', redisUrl, '--rate', values.rate, '--seconds', values.seconds]
  if (values['no-http']) args.push('--no-http')
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  proc.stdout.on('data', chunk => { out += chunk })
  const [code] = await once(proc, 'exit')
  if (code !== 0) throw new Error(`the run of ${dist} exited with ${code}`)
  return JSON.parse(out.trim().split('\n').at(-1))
}

if (values.child !== undefined) {
  await child(values.child, values.redis)
} else {
  const dists = positionals.length > 0 ? positionals : [fileURLToPath(new URL('../dist', import.meta.url))]
  const { url, child: redis } = await findOrStartRedis()
  const runs = new Map(dists.map(d => [d, []]))
  try {
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const dist of dists) runs.get(dist).push(await runChild(dist, url))
    }
  } finally {
    redis?.kill()
  }
  console.log(`webhook path, ${values.rate} events/s for ${values.seconds} s, ${values.rounds} rounds${values['no-http'] ? ', no POST' : ''}; medians, CPU µs per event:`)
  const base = median(runs.get(dists[0]).map(r => r.senderUs))
  for (const [dist, list] of runs) {
    const sender = median(list.map(r => r.senderUs))
    const receiver = median(list.map(r => r.receiverUs))
    console.log(`  ${dist}: sender ${sender.toFixed(1)} (${(sender / base).toFixed(2)}x the first), receiver ${receiver.toFixed(1)}`)
  }
}
