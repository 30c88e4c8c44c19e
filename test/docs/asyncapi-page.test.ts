import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { ASYNCAPI_ASSET_DIR, ASYNCAPI_ASSETS } from '../../src/docs/asyncapi-page.js'
import { build, PREFIX } from '../helper.js'

const require = createRequire(import.meta.url)

t.test('/docs/asyncapi is an HTML page that loads the component and the document by relative URLs', async t => {
  const app = await build(t)
  const res = await app.inject(`${PREFIX}/docs/asyncapi`)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.body, '<script src="asyncapi/standalone.js"></script>')
  t.match(res.body, '<link rel="stylesheet" href="asyncapi/default.min.css">')
  t.match(res.body, '<script src="asyncapi/render.js"></script>')
  t.match(res.body, '<link rel="stylesheet" href="asyncapi/page.css">')
  t.notMatch(res.body, /<script>/, 'no inline script: the CSP runs none')
  t.notMatch(res.body, /https?:\/\//, 'no absolute URL: no CDN')
  const render = await app.inject(`${PREFIX}/docs/asyncapi/render.js`)
  t.match(render.headers['content-type'], /^text\/javascript/)
  t.match(render.body, "url: 'asyncapi.json'")
  const css = await app.inject(`${PREFIX}/docs/asyncapi/page.css`)
  t.match(css.headers['content-type'], /^text\/css/)
  t.match(css.body, /body \{[^}]*font-family: ui-sans-serif/, 'the page sets the component\'s font')
})

t.test('its assets are the files of @asyncapi/react-component the build copied into dist/', async t => {
  const app = await build(t, {})
  for (const [name, { type }] of Object.entries(ASYNCAPI_ASSETS)) {
    const res = await app.inject(`${PREFIX}/docs/asyncapi/${name}`)
    t.equal(res.statusCode, 200, name)
    t.equal(res.headers['content-type'], type)
    t.ok(res.body.length > 10_000, `${name} is the real file`)
  }
  t.match((await app.inject(`${PREFIX}/docs/asyncapi/standalone.js`)).body, 'AsyncApiStandalone')
  t.equal(gunzipSync(readFileSync(join(ASYNCAPI_ASSET_DIR, 'standalone.js.gz'))).toString('utf8'),
    readFileSync(require.resolve('@asyncapi/react-component/browser/standalone/index.js'), 'utf8'), 'the dev dependency\'s bundle, as it is')
  t.ok(existsSync(join(ASYNCAPI_ASSET_DIR, 'LICENSE')) && existsSync(join(ASYNCAPI_ASSET_DIR, 'standalone.js.LICENSE.txt')), 'with its licences')
})

t.test('the bundle goes gzipped to a client that takes gzip, unzipped to one that does not', async t => {
  const app = await build(t)
  const plain = await app.inject(`${PREFIX}/docs/asyncapi/standalone.js`)
  t.equal(plain.headers['content-encoding'], undefined)
  const zipped = await app.inject({ url: `${PREFIX}/docs/asyncapi/standalone.js`, headers: { 'accept-encoding': 'gzip, deflate, br' } })
  t.equal(zipped.headers['content-encoding'], 'gzip')
  t.equal(zipped.headers.vary, 'accept-encoding')
  t.ok(zipped.rawPayload.length < plain.rawPayload.length / 3, `gzipped: ${zipped.rawPayload.length} of ${plain.rawPayload.length} bytes`)
  t.equal(gunzipSync(zipped.rawPayload).toString('utf8'), plain.body, 'the same script')
})

t.test('the page and its assets stay out of the OpenAPI document, as Swagger UI\'s page does', async t => {
  const app = await build(t)
  const doc = (await app.inject(`${PREFIX}/docs/json`)).json()
  t.notOk(doc.paths[`${PREFIX}/docs/asyncapi`])
  t.notOk(doc.paths[`${PREFIX}/docs/asyncapi/standalone.js`])
  t.ok(doc.paths[`${PREFIX}/docs/asyncapi.json`], 'the document itself is listed')
})
