/**
 * No cross-site requests (contract "Secure by default"): every POST is application/json (415
 * before anything is done), a listed Origin when WS_ALLOWED_ORIGINS is set (403), credentials
 * checked before the body is read, and a disconnect's body is small.
 */
import { once } from 'node:events'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import t from 'tap'
import { build, connect, listen, PREFIX } from '../helper.js'

const API_KEY = 'security-cross-site-key-0123456789abcdef'

t.test('a POST without Content-Type: application/json is 415 and does nothing', async t => {
  const { app, url } = await listen(t)
  const alice = await connect(t, `${url}/ws`)
  const cases: Array<Record<string, string>> = [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'multipart/form-data; boundary=x' }]
  for (const headers of cases) {
    for (const path of ['/users/alice/disconnect', `/connections/${alice.frames[0].connectionId}/disconnect`, '/broadcast', '/rooms/r/messages']) {
      const res = await app.inject({ method: 'POST', url: PREFIX + path, headers, ...(headers['content-type'] === undefined ? {} : { payload: '{"data":1}' }) })
      t.equal(res.statusCode, 415, `${path} ${JSON.stringify(headers)}`)
      t.same(res.json().error, 'unsupported_media_type')
    }
  }
  t.equal((await alice.request({ type: 'ping' })).type, 'pong', 'alice is still connected')
  t.notOk(alice.frames.some(f => f.type === 'broadcast'), 'nothing was broadcast')
  // A JSON POST with no body at all is a disconnect without a reason.
  const ok = await app.inject({ method: 'POST', url: `${PREFIX}/connections/${alice.frames[0].connectionId}/disconnect`, headers: { 'content-type': 'application/json; charset=utf-8' } })
  t.equal(ok.statusCode, 202)
  t.equal(await alice.closed, 4003)
})

t.test('a POST from an Origin not in WS_ALLOWED_ORIGINS is 403 forbidden_origin', async t => {
  const { app, url } = await listen(t, { WS_ALLOWED_ORIGINS: 'https://app.example.com' })
  const alice = await connect(t, `${url}/ws`)
  const post = (origin?: string) => app.inject({
    method: 'POST', url: `${PREFIX}/connections/${alice.frames[0].connectionId}/disconnect`, payload: {}, headers: origin === undefined ? {} : { origin }
  })
  const evil = await post('https://evil.example')
  t.equal(evil.statusCode, 403)
  t.equal(evil.json().error, 'forbidden_origin')
  t.equal((await alice.request({ type: 'ping' })).type, 'pong', 'alice is still connected')
  t.equal((await post('https://app.example.com')).statusCode, 202, 'a listed origin passes')
  t.equal(await alice.closed, 4003)
  const any = await build(t)
  t.equal((await any.inject({ method: 'POST', url: `${PREFIX}/broadcast`, payload: { data: 1 }, headers: { origin: 'https://evil.example' } })).statusCode, 201, 'WS_ALLOWED_ORIGINS=* lets any origin through')
})

/** Sends a POST's headers announcing `length` bytes and no body; resolves with the response. */
async function headersOnly (base: string, path: string, length: number, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  const req = httpRequest(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(length), ...headers } })
  req.on('error', () => {})
  req.flushHeaders()
  const timer = setTimeout(() => req.destroy(new Error('no answer before the body was sent')), 3000)
  try {
    const [res] = await once(req, 'response') as [IncomingMessage]
    res.resume()
    return res
  } finally {
    clearTimeout(timer)
    req.destroy()
  }
}

t.test('credentials are checked before the body is read', async t => {
  const { http } = await listen(t, { API_KEY, WS_MAX_MESSAGE_BYTES: 1 << 20 })
  for (const path of ['/rooms/r/messages', '/broadcast', '/users/bob/disconnect']) {
    const res = await headersOnly(http, path, 900_000)
    t.equal(res.statusCode, 401, `${path}: 401 with the body still unsent`)
  }
})

t.test('a disconnect body is limited to about 1 KiB', async t => {
  const app = await build(t, { API_KEY })
  const res = await app.inject({ method: 'POST', url: `${PREFIX}/users/bob/disconnect`, headers: { 'x-api-key': API_KEY }, payload: { reason: 'r', pad: 'x'.repeat(2000) } })
  t.equal(res.statusCode, 413)
  t.equal(res.json().error, 'too_large')
  t.equal((await app.inject({ method: 'POST', url: `${PREFIX}/users/bob/disconnect`, headers: { 'x-api-key': API_KEY }, payload: { reason: 'r'.repeat(100) } })).statusCode, 202)
})
