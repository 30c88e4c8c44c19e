/**
 * What the suite's runner (test/run-tests.mjs) and CI's Node matrix (.ci/node-matrix.mjs) decide
 * from a tap run, kept apart from the processes they start so a test can feed it any output:
 * counts read from tap's own totals, the test files that really ran, the Node lines `engines`
 * promises. A run passes only when tests ran, none failed, and every file that exists ran.
 */
import { readdirSync } from 'node:fs'
import { join, relative, sep } from 'node:path'

/**
 * Every `*.test.ts` under `dir` (relative to `root`, `/`-separated, sorted): what tap must run.
 * Skips what tap's default `exclude` skips too (fixtures, dist) and node_modules.
 */
export function testFiles (root, dir = 'test') {
  const found = []
  const walk = (at) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (/^(node_modules|dist|fixtures?)$/.test(entry.name) || entry.name.startsWith('.')) continue
      const path = join(at, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.test.ts')) found.push(relative(root, path).split(sep).join('/'))
    }
  }
  walk(join(root, dir))
  return found.sort()
}

/**
 * Reads tap's TAP stream (its `tap` reporter, the one it uses when stdout is not a terminal).
 * `files`: one entry per top-level point, i.e. per test file, with `ran` false for a file tap
 * skipped because it found no test in it. `totals`: tap's closing `# { total: …, pass: … }`
 * (every assertion of every file), or null when that line is missing (tap crashed, was killed).
 * `failures`: each failed assertion as `file > subtest > ... > assertion`, for the run's closing
 * lines (CI shows the end of its output).
 */
export function readTap (output) {
  const files = []
  let totals = null
  /** The names of the subtests open at each depth (0: the file), from tap's `# Subtest:` lines. */
  const open = []
  const failing = []
  for (const line of output.split(/\r?\n/)) {
    const subtest = /^((?: {4})*)# Subtest: (.+)$/.exec(line)
    if (subtest !== null) {
      const depth = subtest[1].length / 4
      open.length = depth
      open[depth] = subtest[2]
      continue
    }
    const failed = /^((?: {4})+)not ok \d+ - (.+?)(?: # time=[\d.]+m?s)?$/.exec(line)
    if (failed !== null) {
      failing.push([...open.slice(0, failed[1].length / 4), failed[2]].join(' > '))
      continue
    }
    const point = /^(not )?ok \d+ - (.+?)(?: # (SKIP|TODO)\b(.*?))?(?: # time=[\d.]+m?s)?$/.exec(line)
    if (point !== null) {
      const [, not, name, directive, reason] = point
      const empty = directive === 'SKIP' && /no tests found/.test(reason)
      files.push({ name: name.replace(/ # time=.*$/, ''), ok: not === undefined, ran: !empty })
      continue
    }
    const summary = /^# \{ (total: \d+.*) \}$/.exec(line)
    if (summary !== null) {
      totals = { total: 0, pass: 0, fail: 0, skip: 0, todo: 0 }
      for (const [, key, value] of summary[1].matchAll(/(\w+): (\d+)/g)) totals[key] = Number(value)
    }
  }
  // A failed subtest is reported again by each test that holds it: only the innermost count.
  const failures = failing.filter(path => !failing.some(other => other.startsWith(`${path} > `)))
  return { files, totals, failures }
}

/**
 * The verdict on one tap run. `expected`: the test files that should have run (testFiles(), or
 * what `tap list` names for the arguments given). `exitCode`: tap's. Returns the counts for the
 * closing `tests: N passed, N failed` line, the reasons it failed (empty when it passed) and the
 * failed assertions (readTap's `failures`). A
 * failed run never reports 0 failed: a crash, a run with no test or a missing file counts as one.
 */
export function judgeRun ({ output, expected, exitCode }) {
  const { files, totals, failures } = readTap(output)
  const problems = []
  const passed = totals?.pass ?? 0
  let failed = totals?.fail ?? 0
  if (totals === null) problems.push('tap printed no totals line (it crashed or was stopped)')
  else if (passed === 0) problems.push('no test ran')
  if (failed > 0) problems.push(`${failed} test(s) failed`)
  // Only names of expected files count: tap also reports its own points at the top level (a
  // `timeout!` when it stops a file), which must not stand in for a file that never ran.
  const ranNames = new Set(files.filter(f => f.ran).map(f => f.name))
  const empty = files.filter(f => !f.ran).map(f => f.name)
  const ran = expected.filter(name => ranNames.has(name))
  const missing = expected.filter(name => !ranNames.has(name) && !empty.includes(name))
  if (missing.length > 0 || empty.length > 0) {
    const why = [missing.length > 0 ? `never ran: ${missing.join(', ')}` : '', empty.length > 0 ? `no test in: ${empty.join(', ')}` : ''].filter(Boolean)
    problems.push(`ran ${ran.length} of the ${expected.length} test files (${why.join('; ')})`)
  }
  if (exitCode !== 0 && problems.length === 0) problems.push(`tap exited with ${exitCode}`)
  if (problems.length > 0 && failed === 0) failed = 1
  return { passed, failed, filesRan: ran.length, filesExpected: expected.length, problems, failures }
}

/** The Node lines (majors) an `engines.node` range of `^X.Y.Z` alternatives names, e.g. ['20', '24', '26']. */
export function engineLines (range) {
  return caretRanges(range).map(r => String(r.major))
}

/** True when `version` (v20.19.5 or 20.19.5) satisfies an `engines.node` range of `^X.Y.Z` alternatives. */
export function satisfiesEngines (version, range) {
  const [major, minor, patch] = version.replace(/^v/, '').split('.').map(Number)
  return caretRanges(range).some(r => major === r.major && (minor > r.minor || (minor === r.minor && patch >= r.patch)))
}

function caretRanges (range) {
  return range.split('||').map(part => {
    const m = /^\s*\^(\d+)\.(\d+)\.(\d+)\s*$/.exec(part)
    if (m === null) throw new Error(`engines.node: only ^X.Y.Z alternatives are understood, got "${part.trim()}"`)
    return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) }
  })
}

/**
 * The verdict on the whole matrix. `runs`: one per Node run, `{ version, passed, failed, ok }`
 * (version null when that line's Node could not be fetched). Fails when a run failed or counted
 * no test, when this machine's Node is not one `engines` allows, and when a line `engines` names
 * did not run: each such line adds one to `failed`.
 */
export function judgeMatrix ({ engines, machineVersion, runs }) {
  const problems = []
  if (!satisfiesEngines(machineVersion, engines)) problems.push(`this machine's node ${machineVersion} is not one engines allows (${engines})`)
  for (const run of runs) {
    if (!run.ok) problems.push(`node ${run.version ?? run.line + '.x'}: the run failed`)
    else if (run.passed === 0) problems.push(`node ${run.version}: no test ran`)
  }
  const ranLines = new Set(runs.filter(r => r.ok && r.passed > 0 && r.version !== null).map(r => r.version.replace(/^v/, '').split('.')[0]))
  const missing = engineLines(engines).filter(line => !ranLines.has(line))
  for (const line of missing) problems.push(`node ${line}: named in engines (${engines}) but no passing run`)
  const passed = runs.reduce((sum, r) => sum + r.passed, 0)
  let failed = runs.reduce((sum, r) => sum + r.failed, 0) + missing.length
  if (problems.length > 0 && failed === 0) failed = 1
  return { passed, failed, ranLines: [...ranLines].sort(), missing, problems }
}
