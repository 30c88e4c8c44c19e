/**
 * `npm run bench -- --profile [--shape small-rooms]`: two chat-api instances under `node --cpu-prof`
 * through a fan-out shape (a ramp, then a steady stretch at the sustained rate), and the functions that cost the
 * most self time. The .cpuprofile files land in bench/results (git-ignored); open them in Chrome
 * DevTools or speedscope for the full picture.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { ROOT } from './targets.mjs'
import { startInstances, stopInstances } from './servers.mjs'

const DIR = join(ROOT, 'bench', 'results')
const TOP = 30

/** Self time per function (name + file:line), in ms, highest first. */
export function selfTimes (profile) {
  const { nodes, samples, timeDeltas } = profile
  const byId = new Map(nodes.map(n => [n.id, n]))
  const ms = new Map()
  let total = 0
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i])
    const dt = (timeDeltas[i] ?? 0) / 1000
    total += dt
    const { functionName, url, lineNumber } = node.callFrame
    const file = url.startsWith('file://') ? relative(ROOT, new URL(url).pathname) : url
    const key = `${functionName || '(anonymous)'} ${file}${file ? ':' + (lineNumber + 1) : ''}`
    ms.set(key, (ms.get(key) ?? 0) + dt)
  }
  return { total, rows: [...ms].sort((a, b) => b[1] - a[1]) }
}

/** `shape`: one of the fan-out shapes (bench/scenarios/fanout.mjs), `--shape` on the command line. */
export async function profileChatApi ({ lg, redisUrl, runId, steps, stepMs, log }, shape) {
  const before = new Set(await readdir(DIR))
  const { rooms, members } = shape
  const instances = await startInstances('chat-api', 2, {
    redisUrl, prefix: `${runId}-profile`, nodeFlags: ['--cpu-prof', '--cpu-prof-dir', DIR]
  })
  try {
    await lg.ask('setup', { target: 'chat-api', protocol: 'chat', ports: instances.map(i => i.port), rooms, members })
    const { best } = await steps.ramp('chat-api', instances, members, shape.startRate, 1.6, stepMs)
    const rate = Math.round((best?.rate ?? 200) * 0.9)
    const steady = await steps.measuredStep('chat-api', instances, members, rate, 5000)
    log(`steady ${rate} msg/s: ${Math.round(steady.deliveredPerSec)} deliveries/s, ${steady.cpuUsPerDelivery?.toFixed(2)} µs/delivery`)
    await lg.ask('teardown', { target: 'chat-api' })
  } finally {
    await stopInstances(instances)
  }
  const files = (await readdir(DIR)).filter(f => f.endsWith('.cpuprofile') && !before.has(f))
  for (const file of files) {
    const { total, rows } = selfTimes(JSON.parse(await readFile(join(DIR, file), 'utf8')))
    console.log(`\n### ${file}: ${Math.round(total)} ms sampled, top ${TOP} by self time\n`)
    console.log('| self ms | % | function |\n|---:|---:|---|')
    for (const [key, ms] of rows.slice(0, TOP)) console.log(`| ${Math.round(ms)} | ${(100 * ms / total).toFixed(1)} | ${key} |`)
  }
}
