#!/usr/bin/env node
/**
 * Where Redis's time goes when it stores a room message (issue 22's "Redis CPU per message"):
 * chat-api's own append path (RedisHistory.append, the group-commit script of
 * src/redis/lua/append-batch.lua) against the floor's bare PUBLISH of the same frame, on a
 * redis-server of this run only, with two subscribers on the rooms' channels as two instances
 * would be. Each message is sent alone and awaited (one message per script call: the fan-out
 * bench's common rate), then in bursts of `--burst` (a turn's worth, one call for many).
 *
 * Redis CPU per message is INFO cpu (user + sys: command execution, Lua and the socket I/O);
 * the per-command rows are INFO commandstats, which counts each command a script runs as well as
 * the EVALSHA around it, so "Lua and the script call itself" is the EVALSHA's time less theirs.
 *
 * `--baseline DIR` runs another build's append path too (DIR: its dist/, e.g. of a worktree of
 * main), in the same rounds and on the same Redis: before and after a change to the scripts.
 *
 *   npm run build && node bench/append-cost.mjs [--messages 20000] [--rounds 3] [--burst 16] [--baseline DIR]
 */
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Redis } from 'ioredis'
import { startRedisServer } from './lib/redis.mjs'
import { median } from './lib/stats.mjs'

const { values } = parseArgs({ options: { messages: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' }, burst: { type: 'string', default: '16' }, baseline: { type: 'string' } } })
const MESSAGES = Number(values.messages)
const ROUNDS = Number(values.rounds)
const BURST = Number(values.burst)
const ROOMS = 10
// A 100-byte chat message, as the fan-out bench sends, in the frame the service stores.
const DATA = 'x'.repeat(100)

const server = await startRedisServer()
const admin = new Redis(server.port)
const run = Date.now().toString(36)

/** A build's append path (its dist/ folder), on a client and a key prefix of its own. */
async function appendPath (dist, name) {
  const load = async (module) => import(pathToFileURL(resolve(dist, module)).href)
  const { RedisHistory } = await load('history/redis-history.js')
  const { redisLayout } = await load('redis/layout.js')
  const { defineScripts } = await load('redis/scripts.js')
  const layout = redisLayout(`append-cost-${name}-${run}`)
  const client = defineScripts(new Redis(server.port))
  return { layout, client, history: new RedisHistory({ client, layout, size: 100, ttlSec: 600, newEpoch: () => `e${Date.now().toString(36)}` }) }
}

const { layout, client, history } = await appendPath(new URL('../dist', import.meta.url).pathname, 'this')
const baseline = values.baseline === undefined ? null : await appendPath(values.baseline, 'baseline')
const rooms = Array.from({ length: ROOMS }, (_, i) => `room-${i}`)
const subscribers = [new Redis(server.port), new Redis(server.port)]
for (const s of subscribers) {
  await s.subscribe(...[layout, baseline?.layout].flatMap(l => l === undefined ? [] : rooms.map(r => l.room(r))))
  s.on('message', () => {})
}

let sequence = 0
const frameHead = (messageId) => `{"type":"message","room":"r","from":{"connectionId":"c1","user":"u1"},"data":"${DATA}","messageId":"${messageId}","ts":1765100000000`

/** Each build's last position per room: an instance names what it has seen of a room with every append. */
const positions = new Map()

function draft (label, room) {
  const messageId = `m${sequence++}`
  return { room, messageId, frameHead: frameHead(messageId), seen: positions.get(`${label}:${room}`) }
}

async function append (label, history, room) {
  const { offset, epoch } = await history.append(draft(label, room))
  positions.set(`${label}:${room}`, { epoch, offset })
}

/** Redis CPU in µs and the commandstats table, so far. */
async function counters () {
  const cpu = await admin.info('cpu')
  const num = name => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)[1])
  const stats = {}
  for (const m of (await admin.info('commandstats')).matchAll(/^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/gm)) {
    stats[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) }
  }
  return { cpuUs: (num('used_cpu_sys') + num('used_cpu_user')) * 1e6, stats }
}

/** Per message: Redis CPU, and each command's calls and µs (commandstats), over `send`'s messages. */
async function measure (send) {
  await admin.config('RESETSTAT')
  const before = await counters()
  await send()
  const after = await counters()
  const perCommand = {}
  for (const [name, { calls, usec }] of Object.entries(after.stats)) {
    if (name.startsWith('config')) continue
    // INFO also counts this function's own three (the scripts' INFO replication is the rest).
    perCommand[name] = { calls: (name === 'info' ? calls - 3 : calls) / MESSAGES, us: usec / MESSAGES }
  }
  return { cpuUs: (after.cpuUs - before.cpuUs) / MESSAGES, perCommand }
}

/** One message per call, then BURST per call, through a build's history. */
const appendModes = (label, history) => ({
  [`${label}: one message per call`]: async () => {
    for (let i = 0; i < MESSAGES; i++) await append(label, history, rooms[i % ROOMS])
  },
  [`${label}: ${BURST} per call`]: async () => {
    for (let i = 0; i < MESSAGES; i += BURST) {
      const burst = []
      for (let j = 0; j < BURST; j++) burst.push(append(label, history, rooms[(i + j) % ROOMS]))
      await Promise.all(burst)
    }
  }
})

const modes = {
  'floor: PUBLISH': async () => {
    for (let i = 0; i < MESSAGES; i++) {
      const id = `m${sequence++}`
      await client.publish(layout.room(rooms[i % ROOMS]), `${frameHead(id)},"offset":1,"epoch":"e"}`)
    }
  },
  ...appendModes('chat-api', history),
  ...(baseline === null ? {} : appendModes('baseline', baseline.history))
}

/** One message per call: INFO commandstats per message, and what the script call costs beside them. */
function breakdown (label, lone) {
  const names = new Set(lone.flatMap(r => Object.keys(r.perCommand)))
  const row = (name) => ({ calls: median(lone.map(r => r.perCommand[name]?.calls ?? 0)), us: median(lone.map(r => r.perCommand[name]?.us ?? 0)) })
  console.log(`\n${label}, one message per call, INFO commandstats per message:\n`)
  console.log('| command | calls per message | µs per message |')
  console.log('|---|---|---|')
  let inner = 0
  for (const name of [...names].filter(n => n !== 'evalsha').sort((a, b) => row(b).us - row(a).us)) {
    const { calls, us } = row(name)
    inner += us
    console.log(`| ${name.toUpperCase()} | ${calls.toFixed(2)} | ${us.toFixed(2)} |`)
  }
  const script = row('evalsha').us
  console.log(`| Lua and the script call itself (EVALSHA less the above) | | ${(script - inner).toFixed(2)} |`)
  console.log(`| the whole EVALSHA | 1 | ${script.toFixed(2)} |`)
  const cpu = median(lone.map(r => r.cpuUs))
  console.log(`| socket I/O and the rest of Redis CPU (CPU less the EVALSHA) | | ${(cpu - script).toFixed(2)} |`)
}

try {
  const results = {}
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, send] of Object.entries(modes)) (results[name] ??= []).push(await measure(send))
  }
  const floorCpu = median(results['floor: PUBLISH'].map(r => r.cpuUs))
  console.log(`${MESSAGES} messages of ${DATA.length} bytes over ${ROOMS} rooms, 2 subscribers; medians of ${ROUNDS} rounds\n`)
  console.log('| mode | Redis CPU µs per message | vs PUBLISH | script calls per message |')
  console.log('|---|---|---|---|')
  for (const [name, runs] of Object.entries(results)) {
    const cpu = median(runs.map(r => r.cpuUs))
    const calls = median(runs.map(r => r.perCommand.evalsha?.calls ?? 0))
    console.log(`| ${name} | ${cpu.toFixed(1)} | ${(cpu / floorCpu).toFixed(2)}x | ${calls.toFixed(3)} |`)
  }
  // Where the script's time goes, one message per call.
  for (const label of baseline === null ? ['chat-api'] : ['chat-api', 'baseline']) breakdown(label, results[`${label}: one message per call`])
} finally {
  for (const c of [admin, client, baseline?.client, ...subscribers]) c?.disconnect()
  server.child.kill('SIGKILL')
}
