import t from 'tap'
import { ASYNCAPI_ASSETS } from '../../src/docs/asyncapi-page.js'
import { build, PREFIX } from '../helper.js'

t.test('/docs/asyncapi is an HTML page that loads the component and the document by relative URLs', async t => {
  const app = await build(t)
  const res = await app.inject(`${PREFIX}/docs/asyncapi`)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.body, '<script src="asyncapi/standalone.js"></script>')
  t.match(res.body, '<link rel="stylesheet" href="asyncapi/default.min.css">')
  t.match(res.body, "url: 'asyncapi.json'")
  t.notMatch(res.body, /https?:\/\//, 'no absolute URL: no CDN')
})

t.test('its assets come from @asyncapi/react-component', async t => {
  const app = await build(t, {})
  for (const [name, { type }] of Object.entries(ASYNCAPI_ASSETS)) {
    const res = await app.inject(`${PREFIX}/docs/asyncapi/${name}`)
    t.equal(res.statusCode, 200, name)
    t.equal(res.headers['content-type'], type)
    t.ok(res.body.length > 10_000, `${name} is the real file`)
  }
  t.match((await app.inject(`${PREFIX}/docs/asyncapi/standalone.js`)).body, 'AsyncApiStandalone')
})

t.test('the page and its assets stay out of the OpenAPI document, as Swagger UI\'s page does', async t => {
  const app = await build(t)
  const doc = (await app.inject(`${PREFIX}/docs/json`)).json()
  t.notOk(doc.paths[`${PREFIX}/docs/asyncapi`])
  t.notOk(doc.paths[`${PREFIX}/docs/asyncapi/standalone.js`])
  t.ok(doc.paths[`${PREFIX}/docs/asyncapi.json`], 'the document itself is listed')
})
