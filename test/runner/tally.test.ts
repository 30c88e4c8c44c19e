/**
 * The runner cannot report success for a run that proved nothing: the decisions of
 * test/runner/tally.mjs on made-up tap output, then real runs of test/run-tests.mjs and
 * .ci/node-matrix.mjs on tiny projects in a temp dir (no test at all, a file without a test,
 * a missing Node line, a stale dist/).
 */
import { test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { engineLines, judgeMatrix, judgeRun, readTap, satisfiesEngines, testFiles } from './tally.mjs'
const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

const repo = resolve(import.meta.dirname, '..', '..')

/** tap's stream for files given as [name, assertions passed, assertions failed]; assertions 0 is tap's "no tests found". */
function tapOutput (files: Array<[string, number, number]>, totals = true): string {
  const lines = ['TAP version 14', `1..${files.length}`]
  files.forEach(([name, pass, fail], i) => {
    lines.push(`# Subtest: ${name}`)
    if (pass + fail === 0) {
      lines.push('    1..0 # no tests found', `ok ${i + 1} - ${name} # SKIP no tests found`)
      return
    }
    for (let k = 0; k < pass; k++) lines.push(`    ok ${k + 1} - fine`)
    for (let k = 0; k < fail; k++) lines.push(`    not ok ${pass + k + 1} - broken`)
    lines.push(`    1..${pass + fail}`, `${fail > 0 ? 'not ok' : 'ok'} ${i + 1} - ${name} # time=12.5ms`, '')
  })
  const pass = files.reduce((s, f) => s + f[1], 0)
  const fail = files.reduce((s, f) => s + f[2], 0)
  const skip = files.filter(f => f[1] + f[2] === 0).length
  if (totals) lines.push(`# { total: ${pass + fail + skip}, pass: ${pass}${fail > 0 ? `, fail: ${fail}` : ''}${skip > 0 ? `, skip: ${skip}` : ''} }`, '# time=812ms')
  return lines.join('\n') + '\n'
}

test('readTap: one entry per file, tap\'s totals', async (t) => {
  const { files, totals } = readTap(tapOutput([['test/a.test.ts', 3, 0], ['test/b.test.ts', 0, 0], ['test/c.test.ts', 1, 1]]))
  t.same(files, [
    { name: 'test/a.test.ts', ok: true, ran: true },
    { name: 'test/b.test.ts', ok: true, ran: false },
    { name: 'test/c.test.ts', ok: false, ran: true }
  ])
  t.match(totals, { total: 6, pass: 4, fail: 1, skip: 1 })
  t.equal(readTap('TAP version 14\n').totals, null, 'no totals line: null, not zeros')
})

test('readTap: each failed assertion named by its file and subtests, the innermost only', async (t) => {
  const output = [
    'TAP version 14', '1..2',
    '# Subtest: test/a.test.ts',
    '    # Subtest: a group',
    '        # Subtest: an inner test',
    '            ok 1 - fine',
    '            not ok 2 - should be equal',
    '            1..2',
    '        not ok 1 - an inner test # time=3ms',
    '        ok 2 - another',
    '        1..2',
    '    not ok 1 - a group # time=5ms',
    '    not ok 2 - a plain assertion',
    '    1..2',
    'not ok 1 - test/a.test.ts # time=9ms',
    '# Subtest: test/b.test.ts',
    '    # Subtest: fine here',
    '        ok 1 - yes',
    '        1..1',
    '    ok 1 - fine here',
    '    1..1',
    'ok 2 - test/b.test.ts # time=1ms',
    '# { total: 4, pass: 2, fail: 2 }'
  ].join('\n')
  t.same(readTap(output).failures, [
    'test/a.test.ts > a group > an inner test > should be equal',
    'test/a.test.ts > a plain assertion'
  ])
  t.same(judgeRun({ output, expected: ['test/a.test.ts', 'test/b.test.ts'], exitCode: 1 }).failures, readTap(output).failures, 'judgeRun hands them on')
  t.same(readTap(tapOutput([['test/a.test.ts', 2, 0]])).failures, [], 'none in a good run')
})

test('judgeRun: passes only when tests ran, none failed and every file ran', async (t) => {
  const expected = ['test/a.test.ts', 'test/b.test.ts']
  const good = judgeRun({ output: tapOutput([['test/a.test.ts', 3, 0], ['test/b.test.ts', 2, 0]]), expected, exitCode: 0 })
  t.same(good, { passed: 5, failed: 0, filesRan: 2, filesExpected: 2, problems: [], failures: [] })

  const none = judgeRun({ output: tapOutput([['test/a.test.ts', 0, 0], ['test/b.test.ts', 0, 0]]), expected, exitCode: 0 })
  t.equal(none.passed, 0)
  t.equal(none.failed, 1, 'a run with no test is a failed run, even when tap exits 0')
  t.match(none.problems, [/no test ran/, /ran 0 of the 2 test files \(no test in: test\/a.test.ts, test\/b.test.ts\)/])

  const fewer = judgeRun({ output: tapOutput([['test/a.test.ts', 3, 0]]), expected, exitCode: 0 })
  t.same(fewer.problems, ['ran 1 of the 2 test files (never ran: test/b.test.ts)'])
  t.equal(fewer.failed, 1)

  const empty = judgeRun({ output: tapOutput([['test/a.test.ts', 3, 0], ['test/b.test.ts', 0, 0]]), expected, exitCode: 0 })
  t.same(empty.problems, ['ran 1 of the 2 test files (no test in: test/b.test.ts)'])

  // tap's own top-level point when it stops a file is no file: the one it never started is missing.
  const timedOut = tapOutput([['test/a.test.ts', 3, 1]]).replace('# {', 'not ok 2 - timeout!\n  ---\n  expired: test/a.test.ts\n  ...\n# {')
  const stopped = judgeRun({ output: timedOut, expected, exitCode: 1 })
  t.equal(stopped.filesRan, 1)
  t.match(stopped.problems, ['1 test(s) failed', 'ran 1 of the 2 test files (never ran: test/b.test.ts)'])

  const crashed = judgeRun({ output: tapOutput([['test/a.test.ts', 3, 0]], false), expected: ['test/a.test.ts'], exitCode: 'SIGKILL' })
  t.match(crashed, { passed: 0, failed: 1, problems: [/no totals line/] })

  const failing = judgeRun({ output: tapOutput([['test/a.test.ts', 3, 2], ['test/b.test.ts', 1, 0]]), expected, exitCode: 1 })
  t.match(failing, { passed: 4, failed: 2, problems: ['2 test(s) failed'] })

  const coverage = judgeRun({ output: tapOutput([['test/a.test.ts', 3, 0], ['test/b.test.ts', 1, 0]]), expected, exitCode: 1 })
  t.match(coverage, { passed: 4, failed: 1, problems: ['tap exited with 1'] }, 'a non-zero exit with every test passed still fails')
})

test('testFiles: every *.test.ts under test/, as tap names them, not fixtures', async (t) => {
  const files = testFiles(repo)
  t.ok(files.includes('test/runner/tally.test.ts'))
  t.ok(files.includes('test/ws/rooms.test.ts'))
  t.ok(files.every(f => f.startsWith('test/') && f.endsWith('.test.ts')))
  t.ok(files.length >= 60, `${files.length} files`)
})

test('engines: the lines it names and whether a Node is one of them', async (t) => {
  const engines = '^20.19.5 || ^24.0.0 || ^26.0.0'
  t.same(engineLines(engines), ['20', '24', '26'])
  t.equal(satisfiesEngines('v20.19.5', engines), true)
  t.equal(satisfiesEngines('v20.20.2', engines), true)
  t.equal(satisfiesEngines('v20.19.4', engines), false, 'older than the 20.x engines promises')
  t.equal(satisfiesEngines('v22.1.0', engines), false)
  t.equal(satisfiesEngines('v26.0.1', engines), true)
  t.throws(() => engineLines('>=20'), /only \^X\.Y\.Z/)
})

test('judgeMatrix: a line engines names that did not run fails the matrix', async (t) => {
  const engines = '^20.19.5 || ^24.0.0 || ^26.0.0'
  const ran = (version: string, passed = 900) => ({ version, passed, failed: 0, ok: true })
  const all = judgeMatrix({ engines, machineVersion: 'v20.20.2', runs: [ran('v20.20.2'), ran('v24.11.0'), ran('v26.1.0')] })
  t.same(all, { passed: 2700, failed: 0, ranLines: ['20', '24', '26'], missing: [], problems: [] })

  const dropped = judgeMatrix({ engines, machineVersion: 'v20.20.2', runs: [ran('v20.20.2')] })
  t.same(dropped.missing, ['24', '26'], 'CI_NODE_LINES=\'\' ran the machine\'s Node only')
  t.equal(dropped.failed, 2)
  t.equal(dropped.problems.length, 2)

  const unfetched = judgeMatrix({ engines, machineVersion: 'v20.20.2', runs: [ran('v20.20.2'), ran('v24.11.0'), { line: '26', version: null, passed: 0, failed: 1, ok: false }] })
  t.same(unfetched.missing, ['26'])
  t.match(unfetched.problems, [/node 26\.x: the run failed/, /node 26: named in engines/])

  const empty = judgeMatrix({ engines, machineVersion: 'v20.20.2', runs: [ran('v20.20.2'), ran('v24.11.0', 0), ran('v26.1.0')] })
  t.same(empty.missing, ['24'], 'a line that counted no test did not run')
  t.match(empty.problems, [/v24.11.0: no test ran/, /node 24: named in engines/])

  const foreign = judgeMatrix({ engines, machineVersion: 'v22.3.0', runs: [ran('v22.3.0'), ran('v24.11.0'), ran('v26.1.0')] })
  t.match(foreign.problems, [/node v22.3.0 is not one engines allows/, /node 20: named in engines/])
})

/**
 * The fixtures' tap settings name the repository's plugins (.taprc): they share its node_modules,
 * and tap rebuilds its runner there for another plugin list, under the files the outer run still
 * has to start.
 */
const TAP_PLUGINS = { plugin: ['!@tapjs/typescript'], 'node-arg': ['--import=tsx'] }

test('the fixtures load tests as the repository does', async (t) => {
  const taprc = readFileSync(join(repo, '.taprc'), 'utf8')
  for (const setting of [...TAP_PLUGINS.plugin, ...TAP_PLUGINS['node-arg']]) t.ok(taprc.includes(setting), `.taprc names ${setting}`)
})

/** A project in a temp dir with these files (and the repository's node_modules), removed at teardown. */
function project (t: { teardown: (fn: () => void) => void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'chat-api-runner-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'))
  const pkg = { type: 'module', engines: { node: '^20.19.5 || ^24.0.0 || ^26.0.0' }, tap: { include: ['test/**/*.test.ts'], 'disable-coverage': true, ...TAP_PLUGINS } }
  for (const [name, text] of Object.entries({ 'package.json': JSON.stringify(pkg), ...files })) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return dir
}

/** Runs a script of the repository in `cwd` the way CI does; its exit code and output. */
async function run (script: string, cwd: string, env: Record<string, string> = {}): Promise<{ code: number, out: string, last: string }> {
  // Not this test's own tap settings: the inner tap must behave as a top-level run.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(_?TAP|NODE_OPTIONS|NODE_V8_COVERAGE)/.test(k)))
  const child = spawn(process.execPath, [join(repo, script)], { cwd, env: { ...clean, REDIS_URL: TEST_REDIS_URL, ...env } })
  let out = ''
  child.stdout.on('data', (chunk) => { out += chunk })
  child.stderr.on('data', (chunk) => { out += chunk })
  const [code] = await once(child, 'close')
  const lines = out.trim().split('\n')
  return { code, out, last: lines[lines.length - 1] }
}

const A_TEST = "import t from 'tap'\nt.equal(1 + 1, 2)\nt.test('sub', async t => { t.ok(true) })\n"
const NO_TEST = "import t from 'tap'\nvoid t\n"

const A_FAILING_TEST = "import t from 'tap'\nt.test('a group', async t => { t.equal(1 + 1, 3, 'arithmetic') })\n"

test('the runner, for real: no test at all, a file without a test, a failed test, a good run', async (t) => {
  const [none, fewer, failing, good] = await Promise.all([
    run('test/run-tests.mjs', project(t, { 'test/empty.test.ts': NO_TEST })),
    run('test/run-tests.mjs', project(t, { 'test/one.test.ts': A_TEST, 'test/two.test.ts': NO_TEST })),
    run('test/run-tests.mjs', project(t, { 'test/one.test.ts': A_TEST, 'test/bad.test.ts': A_FAILING_TEST })),
    run('test/run-tests.mjs', project(t, { 'test/one.test.ts': A_TEST, 'test/deeper/two.test.ts': A_TEST }))
  ])
  t.equal(failing.code, 1)
  t.equal(failing.last, 'tests: 2 passed, 1 failed')
  t.match(failing.out, /^run-tests: not ok: test\/bad\.test\.ts > a group > arithmetic$/m, 'the failed assertion is named near the end')
  t.equal(none.code, 1, 'tap itself exits 0 on this run')
  t.equal(none.last, 'tests: 0 passed, 1 failed')
  t.match(none.out, /run-tests: FAILED: no test ran/)
  t.equal(fewer.code, 1)
  t.equal(fewer.last, 'tests: 2 passed, 1 failed')
  t.match(fewer.out, /FAILED: ran 1 of the 2 test files \(no test in: test\/two\.test\.ts\)/)
  if (good.code !== 0) t.comment(good.out)
  t.equal(good.code, 0, 'a good run passes')
  t.equal(good.last, 'tests: 4 passed, 0 failed')
  t.match(good.out, /run-tests: 2 of 2 test files ran, 4 tests passed/)
})

test('the runner builds a dist/ older than src/, and refuses when that build fails', async (t) => {
  const stale = (build: string) => {
    const dir = project(t, { 'src/a.ts': 'export {}\n', 'dist/a.js': 'export {}\n', 'test/one.test.ts': A_TEST })
    const pkg = { type: 'module', scripts: { build }, tap: { include: ['test/**/*.test.ts'], 'disable-coverage': true, ...TAP_PLUGINS } }
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg))
    const old = new Date(Date.now() - 60_000)
    utimesSync(join(dir, 'dist/a.js'), old, old)
    return dir
  }
  const builds = stale("node -e \"require('fs').writeFileSync('dist/built', '')\"")
  const breaks = stale('exit 3')
  const [built, refused] = await Promise.all([run('test/run-tests.mjs', builds), run('test/run-tests.mjs', breaks)])
  t.match(built.out, /dist\/ is older than src\/a\.ts: building first/)
  t.ok(existsSync(join(builds, 'dist/built')), 'npm run build ran')
  if (built.code !== 0) t.comment(built.out)
  t.equal(built.code, 0, 'then passes')
  t.equal(built.last, 'tests: 2 passed, 0 failed')
  t.equal(refused.code, 1)
  t.match(refused.out, /npm run build failed: the tests of dist\/ would run stale code, so none ran/)
  t.notMatch(refused.out, /# Subtest/, 'tap never started')
  t.equal(refused.last, 'tests: 0 passed, 1 failed')
})

test('the Node matrix, for real: CI_NODE_LINES=\'\' runs one line and fails for the others engines names', async (t) => {
  const [matrix, failing] = await Promise.all([
    run('.ci/node-matrix.mjs', project(t, { 'test/one.test.ts': A_TEST }), { CI_NODE_LINES: '' }),
    run('.ci/node-matrix.mjs', project(t, { 'test/one.test.ts': A_TEST, 'test/bad.test.ts': A_FAILING_TEST }), { CI_NODE_LINES: '' })
  ])
  // A failed assertion is named again in the summary at the end, under its run: CI shows the end of a long output.
  t.match(failing.out, new RegExp(`\\nnode ${process.version}: 2 ok, 1 not ok \\(\\d+ s\\)\\n  not ok: test/bad\\.test\\.ts > a group > arithmetic\\n`))
  const machine = process.versions.node.split('.')[0]
  const others = ['20', '24', '26'].filter(line => line !== machine)
  if (matrix.code !== 1) t.comment(matrix.out)
  t.equal(matrix.code, 1, 'the matrix fails')
  t.match(matrix.out, new RegExp(`node ${process.version}: 2 ok, 0 not ok`))
  t.match(matrix.out, new RegExp(`node lines that ran: ${machine} \\(engines: `))
  for (const line of others) t.match(matrix.out, new RegExp(`FAILED: node ${line}: named in engines`))
  t.equal(matrix.last, `tests: 2 passed, ${others.length} failed`)
})
