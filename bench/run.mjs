/**
 * `npm run bench`: chat-api against Socket.IO (+ Redis adapter) and a plain ws floor, all in one
 * run, interleaved round by round (floor, chat-api, Socket.IO, floor, ...), through these scenarios
 * (bench/scenarios/): `fanout` (10 rooms x 100), `small-rooms` (5 000 rooms x 4, 2 members on each
 * instance), `churn` (connections that open, join, send one message and close) and `idle` (many
 * sockets doing nothing). Two instances of each target share one Redis; one load generator process
 * drives them (idle: `--idle-instances` instances, and as many load-generator processes as the
 * descriptor limit needs). Prints markdown tables and writes bench/results/<date>.md, .json and .svg charts.
 *
 *   npm run bench                          # 3 rounds, every scenario
 *   npm run bench -- --rounds 1 --scenarios fanout --targets floor,socketio
 *   npm run bench -- --scenarios idle --idle 100000 --idle-instances 5   # 100 000 idle sockets over 5 instances
 *   npm run bench -- --scenarios compression   # chat-api and Socket.IO with and without permessage-deflate
 *   npm run bench -- --soak                # 10 minutes of churn against chat-api: heap and fds
 *   npm run bench -- --profile --shape small-rooms   # chat-api under --cpu-prof, top functions
 *   npm run bench -- --targets floor,chat-api,chat-api-nometrics --scenarios fanout   # metrics on vs off
 *   npm run bench -- --redis cluster --rounds 1   # Redis CPU per shard: one Redis vs a 3-master cluster
 *   npm run bench -- --baseline 6dedcd1 --targets floor,chat-api --scenarios fanout   # against an older commit
 *
 * Only loopback addresses are used; every load is bounded in count and time; every process is stopped.
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { findOrStartRedis } from './lib/redis.mjs'
import { startLoadgen } from './lib/loadgen-client.mjs'
import { killAllNow, stop, stopAll } from './lib/proc.mjs'
import { ROOT, TARGETS } from './lib/targets.mjs'
import { LIMITS, stepper } from './lib/steps.mjs'
import { writeReport } from './lib/report.mjs'
import { profileChatApi } from './lib/profile.mjs'
import { SERVER_OWN_FDS, fdLimit, raiseFdLimit } from './lib/fd-limit.mjs'
import { SHAPES, fanoutScenario } from './scenarios/fanout.mjs'
import { idleScenario } from './scenarios/idle.mjs'
import { churnScenario } from './scenarios/churn.mjs'
import { soakScenario } from './scenarios/soak.mjs'
import { compressionScenario } from './scenarios/compression.mjs'
import { clusterBench } from './lib/cluster-bench.mjs'
import { addBaseline } from './lib/baseline.mjs'

const SCENARIOS = ['fanout', 'small-rooms', 'churn', 'idle', 'compression']
const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    targets: { type: 'string', default: 'floor,chat-api,socketio' },
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    'step-ms': { type: 'string', default: '2000' },
    'latency-ms': { type: 'string', default: '3000' },
    idle: { type: 'string', default: '10000' },
    /** Instances of each target the idle sockets are spread over (each holds its share's descriptors). */
    'idle-instances': { type: 'string', default: '1' },
    /** Load-generator processes opening them, at least (more when the descriptor limit needs them). */
    'idle-clients': { type: 'string', default: '1' },
    'idle-cpu-s': { type: 'string', default: '35' },
    'small-rooms': { type: 'string', default: '5000' },
    'churn-ms': { type: 'string', default: '5000' },
    'compression-listeners': { type: 'string', default: '50' },
    soak: { type: 'boolean', default: false },
    'soak-minutes': { type: 'string', default: '10' },
    shape: { type: 'string', default: 'fanout' },
    'skip-build': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    /** `single` (the comparison of targets) or `cluster` (bench/lib/cluster-bench.mjs). */
    redis: { type: 'string', default: 'single' },
    /** Message rate of the `--redis cluster` steps (default 1000), or of `--profile` (default: 90 % of the peak a ramp finds). */
    rate: { type: 'string' },
    'sio-client': { type: 'string', default: 'official' },
    /** A git commit of chat-api to run as one more target, `chat-api@REF` (bench/lib/baseline.mjs). */
    baseline: { type: 'string' },
    out: { type: 'string' }
  }
})
const ROUNDS = Number(opts.rounds)
const NAMES = opts.targets.split(',')
const WANTED = opts.scenarios.split(',')
if (!['single', 'cluster'].includes(opts.redis)) throw new Error('--redis is "single" or "cluster"')
if (!['official', 'raw'].includes(opts['sio-client'])) throw new Error('--sio-client is "official" (socket.io-client) or "raw"')
for (const name of NAMES) if (!TARGETS[name]) throw new Error(`unknown target "${name}" (${Object.keys(TARGETS).join(', ')})`)
for (const key of WANTED) if (!SCENARIOS.includes(key)) throw new Error(`unknown scenario "${key}" (${SCENARIOS.join(', ')})`)
for (const key of ['idle-instances', 'idle-clients']) {
  if (!(Number.isInteger(Number(opts[key])) && Number(opts[key]) >= 1)) throw new Error(`--${key} is a whole number >= 1`)
}
if (!SHAPES[opts.shape]) throw new Error(`unknown --shape "${opts.shape}" (${Object.keys(SHAPES).join(', ')})`)
/** The load generator's client for a target; `--sio-client raw` swaps socket.io-client for a bare one. */
const protocolOf = (name) => name === 'socketio' && opts['sio-client'] === 'raw' ? 'sio-raw' : TARGETS[name].protocol

const runId = `bench-${Date.now().toString(36)}`
const log = (...args) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args)

function onFatal (err) {
  console.error(err)
  killAllNow()
  process.exit(1)
}
process.on('SIGINT', () => onFatal(new Error('interrupted')))
process.on('SIGTERM', () => onFatal(new Error('terminated')))

/**
 * Scenario sizes that fit the file-descriptor limit the servers and the load generator run under
 * (each holds one descriptor per socket), with a note for the report when one had to shrink. Idle
 * sockets are spread over `--idle-instances` instances, each holding its share next to its own
 * descriptors, and over as many load-generator processes as needed (bench/lib/idle-clients.mjs).
 */
function sizes (notes) {
  const budget = fdLimit() - 1000
  const fit = (key, wanted, most, what, why) => {
    if (wanted <= most) return wanted
    // A note only for a scenario this run measures (the profile's small-rooms shape included).
    if (!(WANTED.includes(key) || (opts.profile && opts.shape === key))) return most
    notes.push(`${what}: ${wanted} asked, ${most} run: the file-descriptor limit here is ${fdLimit()} per process ` +
      `(\`ulimit -Hn\`), and the bench cannot raise it further${why}.`)
    return most
  }
  const instances = Number(opts['idle-instances'])
  const perInstance = fdLimit() - SERVER_OWN_FDS
  return {
    // The load generator holds a room's 3 listeners and its publisher (one target at a time).
    smallRooms: fit('small-rooms', Number(opts['small-rooms']), Math.floor(budget / 4), 'small rooms', ''),
    idle: fit('idle', Number(opts.idle), instances * perInstance, 'idle sockets',
      `; each of the ${instances} instance(s) holds at most ${perInstance} sockets next to its own descriptors ` +
      '(more --idle-instances fit more)')
  }
}
function machine () {
  const cpuinfo = spawnSync('sh', ['-c', 'grep -m1 "model name" /proc/cpuinfo']).stdout.toString()
  return {
    loadAverage: loadavg().map(l => l.toFixed(2)).join(' '),
    nproc: Number(spawnSync('nproc').stdout.toString().trim()),
    cpuModel: cpuinfo.split(':')[1]?.trim() ?? 'unknown',
    node: process.version
  }
}

async function main () {
  if (raiseFdLimit()) return // this run goes on in a child under a higher limit
  const began = performance.now()
  const host = machine()
  if (NAMES.some(name => TARGETS[name].script === 'dist/server.js') && !opts['skip-build']) {
    log('building chat-api (npm run build)')
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
    if (build.status !== 0) throw new Error('npm run build failed')
  }
  let baseline = null
  if (opts.baseline !== undefined) {
    log(`building chat-api at ${opts.baseline} (--baseline)`)
    baseline = addBaseline(opts.baseline)
    // Right after chat-api, so the two alternate within each round.
    NAMES.splice(NAMES.includes('chat-api') ? NAMES.indexOf('chat-api') + 1 : NAMES.length, 0, baseline.name)
  }
  const redis = await findOrStartRedis()
  log(`redis ${redis.url}${redis.child ? ' (started for this run)' : ''}, channel prefix ${runId}-*`)
  const lg = startLoadgen()
  const notes = []
  // The soak opens no small rooms and no idle sockets: nothing to fit.
  const size = opts.soak ? { smallRooms: 0, idle: 0 } : sizes(notes)
  for (const note of notes) log(note)
  let stepSeq = 1e6 // churn steps count deliveries under ids of their own
  const run = {
    lg,
    names: NAMES,
    rounds: ROUNDS,
    stepMs: Number(opts['step-ms']),
    latencyMs: Number(opts['latency-ms']),
    redisUrl: redis.url,
    runId,
    log,
    protocolOf,
    steps: stepper({ lg, redisUrl: redis.url, log }),
    nextStepId: () => ++stepSeq
  }
  try {
    if (opts.profile) {
      const shape = { key: opts.shape, ...SHAPES[opts.shape], ...(opts.shape === 'small-rooms' ? { rooms: size.smallRooms } : {}) }
      // `--targets chat-api-webhooks --profile`: a variant of chat-api instead (one target named).
      const target = NAMES.length === 1 && NAMES[0].startsWith('chat-api') ? NAMES[0] : 'chat-api'
      return await profileChatApi(run, shape, opts.rate === undefined ? null : Number(opts.rate), target)
    }
    if (opts.redis === 'cluster') {
      const { results, markdown } = await clusterBench({ lg, log, single: redis, runId, rate: Number(opts.rate ?? 1000), stepMs: run.stepMs, rounds: ROUNDS })
      const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`
      const report = `${markdown}\n\nMachine: ${host.nproc} cores (${host.cpuModel}), load average ${host.loadAverage} at the start, Node ${host.node}. Command: \`${command}\`.\n`
      console.log(report)
      const file = opts.out ?? join(ROOT, 'bench/results', `${new Date().toISOString().slice(0, 10)}-cluster`)
      writeFileSync(`${file}.md`, report)
      writeFileSync(`${file}.json`, JSON.stringify({ date: new Date().toISOString(), command, machine: host, results }, null, 2))
      log(`wrote ${file}.md and .json`)
      return
    }
    const scenarios = {}
    if (opts.soak) {
      scenarios.soak = await soakScenario(run, { minutes: Number(opts['soak-minutes']) })
    } else {
      for (const key of WANTED) {
        log(`scenario ${key}`)
        if (key === 'fanout') scenarios.fanout = await fanoutScenario(run, { key, ...SHAPES.fanout })
        if (key === 'small-rooms') scenarios[key] = await fanoutScenario(run, { key, ...SHAPES[key], rooms: size.smallRooms })
        if (key === 'churn') scenarios.churn = await churnScenario(run, { durationMs: Number(opts['churn-ms']) })
        if (key === 'compression') scenarios.compression = await compressionScenario(run, { listeners: Number(opts['compression-listeners']) })
        if (key === 'idle' && size.idle > 0) {
          scenarios.idle = await idleScenario(run, {
            sockets: size.idle,
            instances: Number(opts['idle-instances']),
            clients: Number(opts['idle-clients']),
            idleCpuS: Number(opts['idle-cpu-s'])
          })
        }
      }
    }
    const results = {
      date: new Date().toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
      machine: host,
      redis: redis.child ? 'redis-server started by the run' : redis.url,
      params: { sioClient: opts['sio-client'], rounds: ROUNDS, targets: opts.soak ? ['chat-api'] : NAMES, dataBytes: 100, stepMs: run.stepMs, latencyMs: run.latencyMs, ...LIMITS },
      notes,
      scenarios,
      durationS: (performance.now() - began) / 1000
    }
    const { markdown, files } = await writeReport(results, opts.out)
    console.log(markdown)
    log(`wrote ${files.join(' and ')} in ${Math.round(results.durationS)} s`)
  } finally {
    await stop(lg.child)
    await stopAll()
    baseline?.remove()
  }
}

main().catch(onFatal)
