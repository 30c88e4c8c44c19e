/**
 * The packed tarball, installed as a platform team would (test/package/packed.ts: one `npm pack`,
 * one `npm install --omit=dev` of examples/host-app in a temporary directory outside the
 * repository), then:
 * - the tarball holds what an app needs (compiled code, types, Lua scripts, the demo's files, the
 *   AsyncAPI page's bundle) and nothing internal (tests, TypeScript sources, scripts, examples);
 * - the production install is at most 40 MB, and no installed package has an install script;
 * - the example host app, its own login and tokens in front of chat-api under its own prefix,
 *   chats over real sockets through the installed package and its typed client.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { createSigner } from 'fast-jwt'
import { TEST_REDIS_URL } from '../redis-helper.js'
import { packAndInstall, ROOT } from './packed.js'

/** The goal of a production install (issue 25), in bytes of file content. */
const MAX_INSTALL_BYTES = 40 * 1024 * 1024
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall']

t.comment(`loaded in ${Math.round(performance.now())} ms`)
const packed = await packAndInstall()
t.teardown(packed.remove)
t.comment(`${packed.tarball.filename}: ${packed.files.length} files, ${packed.tarball.size} bytes packed, ${packed.tarball.unpackedSize} unpacked; packed in ${packed.packMs} ms, installed in ${packed.installMs} ms`)

t.test('the tarball holds what an installed app needs, and nothing internal', async t => {
  const paths = new Set(packed.files.map(file => file.path))
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const needed = [
    'package.json', 'README.md', 'dist/app.js', 'dist/app.d.ts', 'dist/server.js',
    'dist/docs/asyncapi/standalone.js.gz', 'dist/docs/asyncapi/default.min.css', 'dist/docs/asyncapi/LICENSE',
    ...readdirSync(join(ROOT, 'src/redis/lua')).map(file => `dist/redis/lua/${file}`),
    ...readdirSync(join(ROOT, 'src/public')).map(file => `src/public/${file}`),
    ...readdirSync(join(ROOT, 'src/client')).map(file => `dist/client/${file.replace(/\.ts$/, '.js')}`),
    ...readdirSync(join(ROOT, 'src/client')).map(file => `dist/client/${file.replace(/\.ts$/, '.d.ts')}`)
  ]
  t.same(needed.filter(path => !paths.has(path)), [], 'nothing needed is missing')
  const targets = [pkg.main, pkg.types, ...Object.values<Record<string, string>>(pkg.exports).flatMap(entry => Object.values(entry))]
  t.same(targets.map((target: string) => target.replace(/^\.\//, '')).filter(path => !paths.has(path)), [], 'every `main`, `types` and `exports` target is in it')
  const internal = [...paths].filter(path =>
    /^(test|bench|deploy|examples|scripts|docs|\.ci)\//.test(path) || // the repository's, not the package's
    (/\.[cm]?ts$/.test(path) && !path.endsWith('.d.ts')) || // TypeScript sources: dist/ has the code
    /(^|\/)\.env|\.test\.|(^|\/)\.tap\//.test(path))
  t.same(internal, [], 'no test, TypeScript source, script or example')
  t.ok(paths.has('dist/app.js') && internal.length === 0, 'checked against a real listing')
})

interface Installed { name: string, dir: string, scripts: Record<string, string>, gyp: boolean }

/** Every package under `nodeModules`, nested ones too. */
function packagesUnder (nodeModules: string): Installed[] {
  if (!existsSync(nodeModules)) return []
  const dirs = readdirSync(nodeModules).filter(name => !name.startsWith('.')).flatMap(name =>
    name.startsWith('@') ? readdirSync(join(nodeModules, name)).map(inner => join(nodeModules, name, inner)) : [join(nodeModules, name)])
  return dirs.filter(dir => existsSync(join(dir, 'package.json'))).flatMap(dir => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    return [{ name: pkg.name, dir, scripts: pkg.scripts ?? {}, gyp: existsSync(join(dir, 'binding.gyp')) }, ...packagesUnder(join(dir, 'node_modules'))]
  })
}

/** Bytes of file content under `dir` (symbolic links, like node_modules/.bin's, not followed), and as `du` counts them. */
function sizeOf (dir: string): { bytes: number, diskBytes: number, files: number } {
  let bytes = 0
  let diskBytes = 0
  let files = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      const inner = sizeOf(path)
      bytes += inner.bytes
      diskBytes += inner.diskBytes
      files += inner.files
    } else if (entry.isFile()) {
      const stat = lstatSync(path)
      bytes += stat.size
      diskBytes += stat.blocks * 512
      files++
    }
  }
  return { bytes, diskBytes, files }
}

t.test('installed without dev dependencies: at most 40 MB, no install script', async t => {
  const nodeModules = join(packed.app, 'node_modules')
  const packages = packagesUnder(nodeModules)
  const names = new Set(packages.map(p => p.name))
  for (const name of ['chat-api', 'fastify', 'ioredis', 'ws', 'prom-client', '@fastify/websocket']) t.ok(names.has(name), `${name} is installed`)
  for (const name of ['@asyncapi/react-component', '@asyncapi/parser', '@scarf/scarf', 'react', 'react-dom', 'jsdom', 'lodash', 'pino-pretty', 'typescript', 'tap']) {
    t.notOk(names.has(name), `${name} is not`)
  }
  t.same(packages.filter(p => INSTALL_SCRIPTS.some(script => p.scripts[script] !== undefined) || p.gyp)
    .map(p => `${p.name}: ${INSTALL_SCRIPTS.filter(script => p.scripts[script] !== undefined).join(', ') || 'binding.gyp'}`), [],
  `no install script in any of the ${packages.length} packages`)
  const size = sizeOf(nodeModules)
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
  t.comment(`node_modules: ${packages.length} packages, ${size.files} files, ${mb(size.bytes)} MB of content, ${mb(size.diskBytes)} MB on disk (du)`)
  t.ok(size.bytes <= MAX_INSTALL_BYTES, `${mb(size.bytes)} MB <= ${mb(MAX_INSTALL_BYTES)} MB`)
  t.ok(size.bytes > 5 * 1024 * 1024, 'the measure counted the installed tree')
})

/** Starts the installed example app on a free port; resolves with its base URL once it listens. */
async function startHostApp (t: Test, secret: string): Promise<string> {
  const child = spawn(process.execPath, ['server.js'], {
    cwd: packed.app,
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', REDIS_URL: TEST_REDIS_URL, HOST_JWT_SECRET: secret, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const stderr: string[] = []
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
  t.teardown(async () => {
    if (child.exitCode !== null) return
    const started = Date.now()
    child.kill('SIGTERM')
    await once(child, 'exit')
    t.comment(`host app closed in ${Date.now() - started} ms`)
  })
  const lines = createInterface({ input: child.stdout })
  const exited = once(child, 'exit').then(([code]) => { throw new Error(`host app exited with ${code}: ${stderr.join('')}`) })
  const listening = (async () => {
    for await (const line of lines) {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
      if (match !== null) return match[1]
    }
    throw new Error(`host app closed its output: ${stderr.join('')}`)
  })()
  return await Promise.race([listening, exited])
}

t.test('the example host app chats over real sockets through the installed package', async t => {
  const secret = randomBytes(32).toString('hex')
  const started = Date.now()
  const base = await startHostApp(t, secret)
  t.comment(`host app listening after ${Date.now() - started} ms`)

  // The host's own login and its own JWT check.
  const login = async (user: string, password: string) => fetch(`${base}/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password })
  })
  t.equal((await login('ada', 'wrong')).status, 401, 'the host refuses a bad password')
  const { token: ada } = await (await login('ada', 'lovelace')).json() as { token: string }
  const { token: grace } = await (await login('grace', 'hopper')).json() as { token: string }
  t.same(await (await fetch(`${base}/me`, { headers: { authorization: `Bearer ${ada}` } })).json(), { user: 'ada' }, 'the host\'s own route takes its token')

  // chat-api under the host's prefix, through the installed typed client (`chat-api/client`).
  const require = createRequire(join(packed.app, 'package.json'))
  const clientModule = require.resolve('chat-api/client')
  t.ok(clientModule.startsWith(join(packed.app, 'node_modules', 'chat-api')), 'the client is the installed package\'s')
  const { ChatClient } = await import(pathToFileURL(clientModule).href) as typeof import('../../src/client/index.js')
  const url = `${base.replace(/^http/, 'ws')}/team-chat/ws`
  const clients = [ada, grace].map(token => new ChatClient({ url, token, rooms: ['team'], reconnect: false, WebSocket: WebSocket as never }))
  t.teardown(() => Promise.all(clients.map(client => client.close())))
  const [adaClient, graceClient] = clients
  await Promise.all(clients.map(client => client.connect()))
  const received = new Promise(resolve => graceClient.on('message', resolve))
  await adaClient.send('team', { text: 'hello from the host app' })
  const message = await received
  t.match(message, { room: 'team', data: { text: 'hello from the host app' }, from: { user: 'ada' } }, 'grace gets ada\'s message, sender from the host\'s token')

  // A token for another audience, signed with the same secret, is refused at the upgrade.
  const billing = createSigner({ key: secret, aud: 'billing', iss: 'host-app' })({ sub: 'ada' })
  const refused = new WebSocket(`${url}/team?access_token=${billing}`)
  refused.on('error', () => {}) // terminate() aborts the refused handshake with one
  const [, response] = await once(refused, 'unexpected-response') as [unknown, { statusCode: number }]
  t.equal(response.statusCode, 401, 'a token of another audience is refused')
  refused.terminate()
})
