/** The printed outcome of a chaos run: seed, faults by kind, what was checked, and one verdict line. */
import type { Violation } from './violations.js'
import type { ChaosReport } from './run.js'
import { describeFault } from './schedule.js'

const EXAMPLES_PER_KIND = 3

function countBy<T> (items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return counts
}

const list = (counts: Map<string, number>): string => [...counts].map(([k, n]) => `${k} ${n}`).join(', ')

/** `chaos seed=7: PASS ...` or `chaos seed=7: FAIL ...`; the line CI and people read. */
export function verdict (report: ChaosReport): string {
  const outcome = report.violations.length === 0 ? 'PASS 0 violations' : `FAIL ${report.violations.length} violations (${list(countBy(report.violations, v => v.kind))})`
  return `chaos seed=${report.seed}${report.sentinel ? ' (Sentinel)' : ''}: ${outcome}; ${report.messagesChecked} messages checked, ${report.acks}/${report.sends} sends acknowledged, ${report.faults.length} faults, ${report.seconds} s`
}

/** The whole report; `everyViolation` lists each one, else a few of each kind. */
export function formatReport (report: ChaosReport, everyViolation = false): string {
  const replay = `npm run chaos -- --seed ${report.seed} --seconds ${report.faultSeconds}${report.sentinel ? ' --sentinel' : ''}`
  const lines = [`seed ${report.seed} (replay: ${replay})`, 'faults:']
  for (const fault of report.faults) lines.push(`  ${describeFault(fault)}`)
  lines.push(`faults by kind: ${list(countBy(report.faults, f => f.kind === 'redis-restart' ? `redis-restart(${f.mode})` : f.kind))}`)
  for (const error of report.faultErrors) lines.push(`fault not carried out: ${error}`)
  lines.push(`sends: ${Object.entries(report.outcomes).map(([k, n]) => `${k} ${n}`).join(', ')}`)
  lines.push(`peak RSS (MB): ${Object.entries(report.peakRssMb).map(([name, mb]) => `${name} ${mb}`).join(', ')}`)
  const byKind = new Map<string, Violation[]>()
  for (const v of report.violations) byKind.set(v.kind, [...(byKind.get(v.kind) ?? []), v])
  for (const [kind, violations] of byKind) {
    lines.push(`${kind}: ${violations.length}`)
    for (const v of violations.slice(0, everyViolation ? undefined : EXAMPLES_PER_KIND)) lines.push(`  ${[v.room, v.member].filter(Boolean).join(' ')}: ${v.detail}`)
  }
  lines.push(verdict(report))
  return lines.join('\n')
}
