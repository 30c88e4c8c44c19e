#!/usr/bin/env node
// `npm test`: builds dist/ when it is older than src/ (the e2e, shutdown and package tests run
// dist/), finds a Redis for the cluster tests (REDIS_URL, else 127.0.0.1:6379, else a throw-away
// redis-server on a free port), runs tap, and ends with one line that CI reads:
// `tests: N passed, N failed`. Extra arguments go to tap (e.g. a single test file).
//
// It does not take tap's exit code on trust: the counts come from tap's own totals, and the run
// fails when no test ran, when tap printed no totals, or when fewer test files ran than exist
// (every `*.test.ts` under test/, or what `tap list` names for the arguments given). The
// decisions live in test/runner/tally.mjs, which test/runner/tally.test.ts checks.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { once } from 'node:events'
import { join } from 'node:path'
import { judgeRun, testFiles } from './runner/tally.mjs'

const root = process.cwd()
// A folder given as an argument means the test files under it: handed to tap as it is, tap would
// also run the helper modules beside them (test/chaos/run.ts starts a whole chaos run).
const tapArgs = process.argv.slice(2).flatMap(arg =>
  !arg.startsWith('-') && existsSync(arg) && statSync(arg).isDirectory() ? testFiles(root, arg) : [arg])

/** Failed assertions named at the end of the run (CI shows its tail), at most. */
const MAX_NAMED = 20

/** Ends the run as failed, still with the closing line CI reads. */
function fail (message) {
  console.error(`run-tests: ${message}`)
  console.log('tests: 0 passed, 1 failed')
  process.exit(1)
}

/** The newest file under `dir` ({ path, mtimeMs }), or null when there is none. */
function newest (dir) {
  let found = null
  const walk = (at) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name)
      if (entry.isDirectory()) walk(path)
      else {
        const { mtimeMs } = statSync(path)
        if (found === null || mtimeMs > found.mtimeMs) found = { path, mtimeMs }
      }
    }
  }
  if (existsSync(dir)) walk(dir)
  return found
}

/** Builds when dist/ is missing or older than src/: `npm test` builds first, but a direct run does not. */
function buildWhenStale () {
  const src = newest(join(root, 'src'))
  if (src === null) return // nothing is built here (a fixture project of the runner's own test)
  const dist = newest(join(root, 'dist'))
  if (dist !== null && dist.mtimeMs >= src.mtimeMs) return
  console.error(`run-tests: dist/ is ${dist === null ? 'missing' : `older than ${src.path.slice(root.length + 1)}`}: building first (npm run build)`)
  const build = spawnSync('npm', ['run', 'build'], { stdio: ['ignore', 'inherit', 'inherit'] })
  if (build.status !== 0) fail('npm run build failed: the tests of dist/ would run stale code, so none ran')
}

/** The test files this run must run: every one under test/, or those tap lists for the arguments. */
function expectedFiles () {
  if (tapArgs.length === 0) return testFiles(root)
  const list = spawnSync('npx', ['tap', 'list', ...tapArgs], { encoding: 'utf8' })
  if (list.status !== 0) fail(`tap list ${tapArgs.join(' ')} failed: ${list.stderr.trim()}`)
  return list.stdout.split('\n').map(line => line.trim()).filter(Boolean)
}

/** True when a Redis answers PING at host:port within a second. */
async function redisAnswers (host, port) {
  return new Promise(resolve => {
    const socket = connect({ host, port })
    const done = (ok) => { socket.destroy(); resolve(ok) }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')))
  })
}

async function freePort () {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  await new Promise(resolve => server.close(resolve))
  return port
}

async function startRedis () {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  child.once('error', (err) => fail(`could not start redis-server (${err.message}); install it or set REDIS_URL`))
  for (let i = 0; i < 100; i++) {
    if (await redisAnswers('127.0.0.1', port)) return { url: `redis://127.0.0.1:${port}`, child }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  child.kill()
  fail('redis-server did not answer on port ' + port)
}

buildWhenStale()
const expected = expectedFiles()

let redisUrl = process.env.REDIS_URL
let redisChild = null
if (!redisUrl) {
  if (await redisAnswers('127.0.0.1', 6379)) {
    redisUrl = 'redis://127.0.0.1:6379'
  } else {
    ({ url: redisUrl, child: redisChild } = await startRedis())
    console.log(`npm test: started a throw-away redis-server at ${redisUrl}`)
  }
}

// stdout is a pipe, so tap uses its `tap` reporter: the TAP stream that judgeRun reads.
const tap = spawn('npx', ['tap', ...tapArgs], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, TEST_REDIS_URL: redisUrl }
})
let output = ''
tap.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  output += chunk.toString()
})
const [code, signal] = await once(tap, 'close')
redisChild?.kill()

const run = judgeRun({ output, expected, exitCode: code ?? signal })
console.log(`run-tests: ${run.filesRan} of ${run.filesExpected} test files ran, ${run.passed} tests passed`)
for (const failure of run.failures.slice(0, MAX_NAMED)) console.log(`run-tests: not ok: ${failure}`)
if (run.failures.length > MAX_NAMED) console.log(`run-tests: not ok: ... and ${run.failures.length - MAX_NAMED} more`)
for (const problem of run.problems) console.log(`run-tests: FAILED: ${problem}`)
console.log(`tests: ${run.passed} passed, ${run.failed} failed`)
process.exit(run.problems.length === 0 ? 0 : 1)
