/**
 * The chaos run in CI: a short fixed set of seeds whose schedules together inject every fault kind
 * (proxy cut, stall and reset; CLIENT KILL of command and pub/sub connections; CLIENT PAUSE, also
 * with both connections killed during it; Redis restarted with its data, from an older snapshot and
 * empty; SIGTERM and SIGKILL of an instance). Each seed must end with no violation; a failure
 * prints the seed's report, and `npm run chaos -- --seed N --seconds 15` replays it.
 * Uses dist/ (`npm test` builds it first). About 35 s per seed on a 2-core machine.
 */
import t from 'tap'
import { formatReport, verdict } from './report.js'
import { runChaos } from './run.js'

/** Seed 1: the proxy faults, both CLIENT KILLs, CLIENT PAUSE, a restart with data; seed 252: the
 * restarts without data and from a snapshot, a pause with kills, SIGTERM, SIGKILL. */
const CI_SEEDS = [1, 252]
const FAULT_SECONDS = 15
/** A failing seed waits out every end check's bound (probes, presence, sends): allow for both. */
const FILE_TIMEOUT_MS = CI_SEEDS.length * 120_000

t.setTimeout(FILE_TIMEOUT_MS)
for (const seed of CI_SEEDS) {
  t.test(`chaos seed ${seed}: no invariant broken under ${FAULT_SECONDS} s of faults`, async (t) => {
    const report = await runChaos({ seed, faultSeconds: FAULT_SECONDS })
    t.ok(report.faults.length > 0 && report.messagesChecked > 0, 'faults were injected and messages checked')
    t.same(report.faultErrors, [], 'every fault was carried out')
    if (report.violations.length > 0) t.comment(formatReport(report))
    t.equal(report.violations.length, 0, verdict(report))
  })
}
