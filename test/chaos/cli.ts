/**
 * `npm run chaos [-- --seed N] [--minutes N | --seconds N] [--sentinel] [--verbose] [--record FILE]`: one chaos
 * run against the built server (dist/). Prints the seed, the faults, what was checked and a one-line verdict;
 * exits 1 when any invariant was broken. The same seed replays the same fault schedule. `--record`
 * writes the faults and every member's frames and sends as JSON, to read what led to a violation.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { formatReport } from './report.js'
import { runChaos } from './run.js'

/** The default run: short, for a quick look. */
const DEFAULT_FAULT_SECONDS = 30

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    sentinel: { type: 'boolean', default: false },
    record: { type: 'string' }
  }
})

const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed)
const faultSeconds = values.minutes !== undefined ? Number(values.minutes) * 60 : Number(values.seconds ?? DEFAULT_FAULT_SECONDS)
if (!Number.isInteger(seed) || seed < 0 || !(faultSeconds > 0)) {
  console.error('usage: npm run chaos -- [--seed N (a non-negative integer)] [--minutes N | --seconds N] [--sentinel] [--verbose] [--record FILE]')
  process.exit(2)
}
console.log(`chaos: seed ${seed}, ${faultSeconds} s of faults${values.sentinel === true ? ', Sentinel' : ''}`)
const report = await runChaos({ seed, faultSeconds, sentinel: values.sentinel, log: values.verbose === true ? (line) => console.log(line) : undefined })
console.log(formatReport(report, values.verbose))
if (values.record !== undefined) {
  writeFileSync(values.record, JSON.stringify({ seed, faults: report.faults, violations: report.violations, members: report.members }))
  console.log(`chaos: the run's record is in ${values.record}`)
}
process.exit(report.violations.length === 0 ? 0 : 1)
