/**
 * AUTH_ENABLED=true without JWT_SECRET refuses to start, and says so naming JWT_SECRET: from
 * loadConfig (what the server calls first), from buildApp, and from the server process itself.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/plugins/config.js'

const NO_SECRET = 'env must have required property \'JWT_SECRET\', env must match "then" schema'
const EMPTY_SECRET = 'env/JWT_SECRET must NOT have fewer than 1 characters'

t.test('loadConfig names JWT_SECRET', async t => {
  t.throws(() => loadConfig({ env: false, data: { AUTH_ENABLED: true } }), { message: NO_SECRET })
  // What the environment gives: a string, which the schema coerces before the if/then rule.
  t.throws(() => loadConfig({ env: false, data: { AUTH_ENABLED: 'true' } }), { message: NO_SECRET })
  t.throws(() => loadConfig({ env: false, data: { AUTH_ENABLED: 'true', JWT_SECRET: '' } }), { message: EMPTY_SECRET })
})

t.test('buildApp names JWT_SECRET', async t => {
  await t.rejects(buildApp({ config: { AUTH_ENABLED: true } }), { message: NO_SECRET })
  await t.rejects(buildApp({ config: { AUTH_ENABLED: 'true' } }), { message: NO_SECRET })
  await t.rejects(buildApp({ config: { AUTH_ENABLED: 'true', JWT_SECRET: '' } }), { message: EMPTY_SECRET })
})

t.test('no secret is needed while auth is off', async t => {
  t.equal(loadConfig({ env: false, data: { AUTH_ENABLED: 'false' } }).AUTH_ENABLED, false)
})

t.test('the server process exits 1 with the message on stderr', async t => {
  // An empty working directory: the server reads `.env` from it, and a developer's must not count.
  const cwd = await mkdtemp(join(tmpdir(), 'chat-api-auth-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const server = fileURLToPath(new URL('../../src/server.ts', import.meta.url))
  // The loader the tests themselves run under (.taprc).
  const loader = import.meta.resolve('tsx')
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, AUTH_ENABLED: 'true', PORT: '0' }
  const child = spawn(process.execPath, ['--import', loader, server], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const [code] = await once(child, 'close')
  t.equal(code, 1)
  t.equal(stderr.trim(), `chat-api: invalid configuration: ${NO_SECRET}`)
})
