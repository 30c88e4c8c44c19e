/**
 * `npm run bench -- --profile [--shape small-rooms]`: two chat-api instances through a fan-out shape
 * (a ramp, then 5 s steady at 90 % of the peak, profiled by the inspector in each server), and where
 * the time went: by package, then the functions with the most self time. The .cpuprofile files land in bench/results (git-ignored); open them in Chrome
 * DevTools or speedscope for the full picture.
 */
import { readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { ROOT } from './targets.mjs'
import { profileCommand, startInstances, stopInstances } from './servers.mjs'

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

/** The share of the time spent in each package (or node module, or chat-api file): where a profile's time goes at a glance. */
export function byPackage (profile) {
  const { nodes, samples, timeDeltas } = profile
  const byId = new Map(nodes.map(n => [n.id, n]))
  const ms = new Map()
  for (let i = 0; i < samples.length; i++) {
    const { url, functionName } = byId.get(samples[i]).callFrame
    const path = url.startsWith('file://') ? relative(ROOT, new URL(url).pathname) : url
    const key = path === ''
      ? functionName || '(native)'
      : path.includes('node_modules/')
        ? path.split('node_modules/').pop().split('/').slice(0, path.split('node_modules/').pop().startsWith('@') ? 2 : 1).join('/')
        : path.startsWith('node:') ? 'node:' + path.slice(5).split('/')[0] : path
    ms.set(key, (ms.get(key) ?? 0) + (timeDeltas[i] ?? 0) / 1000)
  }
  return [...ms].sort((a, b) => b[1] - a[1])
}

/**
 * `shape`: one of the fan-out shapes (bench/scenarios/fanout.mjs), `--shape` on the command line.
 * The profile covers only a steady stretch at 90 % of the peak the ramp found, or at `fixedRate`.
 */
export async function profileChatApi ({ lg, redisUrl, runId, steps, stepMs, log }, shape, fixedRate = null, target = 'chat-api') {
  const { rooms, members } = shape
  const instances = await startInstances(target, 2, { redisUrl, prefix: `${runId}-profile` })
  const files = instances.map((_, i) => join(DIR, `${runId}-${shape.key}-${i}.cpuprofile`))
  try {
    await lg.ask('setup', { target, protocol: 'chat', ports: instances.map(i => i.port), rooms, members })
    // A fixed rate (`--rate`) compares two builds at the same load; else 90 % of this one's peak.
    let rate = fixedRate
    if (rate === null) {
      const { best } = await steps.ramp(target, instances, members, shape.startRate, 1.6, stepMs)
      rate = Math.round((best?.rate ?? 200) * 0.9)
    }
    for (const instance of instances) await profileCommand(instance, { profile: 'start' })
    const steady = await steps.measuredStep(target, instances, members, rate, 5000)
    for (const [i, instance] of instances.entries()) await profileCommand(instance, { profile: 'stop', file: files[i] })
    log(`steady ${rate} msg/s: ${Math.round(steady.deliveredPerSec)} deliveries/s, ${steady.cpuUsPerDelivery?.toFixed(2)} µs/delivery`)
    await lg.ask('teardown', { target })
  } finally {
    await stopInstances(instances)
  }
  for (const file of files) {
    const profile = JSON.parse(await readFile(file, 'utf8'))
    const { total, rows } = selfTimes(profile)
    console.log(`\n### ${relative(ROOT, file)}: ${Math.round(total)} ms sampled\n`)
    console.log('| % | package or file |\n|---:|---|')
    for (const [key, ms] of byPackage(profile).slice(0, 15)) console.log(`| ${(100 * ms / total).toFixed(1)} | ${key} |`)
    console.log(`\nTop ${TOP} functions by self time:\n`)
    console.log('| self ms | % | function |\n|---:|---:|---|')
    for (const [key, ms] of rows.slice(0, TOP)) console.log(`| ${Math.round(ms)} | ${(100 * ms / total).toFixed(1)} | ${key} |`)
  }
}
