import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { build, PREFIX } from '../helper.js'

const PUBLIC_DIR = fileURLToPath(new URL('../../src/public/', import.meta.url))

t.test('the demo page, its module and the compiled client are served', async t => {
  const app = await build(t)
  const page = await app.inject(`${PREFIX}/`)
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, '<script type="module" src="demo/demo.js"></script>')

  const bare = await app.inject(`${PREFIX}?room=x`)
  t.equal(bare.statusCode, 302, 'the bare prefix redirects, so relative URLs resolve under it')
  t.equal(bare.headers.location, `${PREFIX}/?room=x`)

  const demo = await app.inject(`${PREFIX}/demo/demo.js`)
  t.equal(demo.statusCode, 200)
  t.match(demo.headers['content-type'], /javascript/)
  t.match(demo.body, "from '../client/index.js'")

  const client = await app.inject(`${PREFIX}/client/index.js`)
  t.equal(client.statusCode, 200, 'dist/client is built (`npm run build`)')
  t.match(client.headers['content-type'], /javascript/)
  t.match(client.body, 'export { ChatClient }')
})

t.test('nothing outside the two folders is reachable', async t => {
  const app = await build(t)
  for (const path of ['/client/../../package.json', '/client/%2e%2e/%2e%2e/package.json', '/demo/%2e%2e/%2e%2e/package.json', '/client/..%2f..%2fpackage.json']) {
    const res = await app.inject(`${PREFIX}${path}`)
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${path}: ${res.statusCode}`)
    t.notMatch(res.body, '"name": "chat-api"')
  }
})

t.test('the static routes stay out of the OpenAPI document', async t => {
  const app = await build(t)
  const paths = Object.keys((await app.inject(`${PREFIX}/docs/json`)).json().paths)
  t.ok(paths.includes(`${PREFIX}/ws/stats`), 'the document lists the API')
  t.same(paths.filter(p => p === PREFIX || p === `${PREFIX}/` || p.includes('/demo/') || p.includes('/client/')), [])
})

t.test('DEMO_ENABLED=false: every demo path is a 404', async t => {
  const app = await build(t, { DEMO_ENABLED: 'false' })
  for (const path of ['/', '/demo/demo.js', '/client/index.js']) {
    const res = await app.inject(`${PREFIX}${path}`)
    t.equal(res.statusCode, 404, path)
    t.match(res.json(), { error: 'not_found' })
  }
  t.equal((await app.inject(`${PREFIX}/health`)).statusCode, 200, 'the rest is served')
})

t.test('the demo\'s modules: each one the page loads is served, and each file of src/public/ is one of them', async t => {
  const app = await build(t)
  const loaded = new Set<string>()
  const queue = ['demo.js']
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (loaded.has(file)) continue
    loaded.add(file)
    const res = await app.inject(`${PREFIX}/demo/${file}`)
    t.equal(res.statusCode, 200, file)
    t.match(res.headers['content-type'], /javascript/, file)
    for (const [, imported] of res.body.matchAll(/from '\.\/([\w-]+\.js)'/g)) queue.push(imported)
  }
  t.ok(loaded.size > 1, `demo.js and the ${loaded.size - 1} modules it imports`)
  const modules = readdirSync(PUBLIC_DIR).filter(file => file.endsWith('.js'))
  t.same([...loaded].sort(), modules.sort(), 'no module of src/public/ is left out, none is missing')
})
