/** The URL redaction and the logger options that install it. */
import t from 'tap'
import { redactUrl, redactedLogger, redactRequest } from '../../src/redact.js'

t.test('redactUrl hides every access_token value, however it is spelled', async t => {
  const cases: Array<[string, string]> = [
    ['/ws', '/ws'],
    ['/ws?room=general', '/ws?room=general'],
    ['/ws?access_token=a.b.c', '/ws?access_token=[redacted]'],
    ['/ws/general?room=x&access_token=a.b.c&y=1', '/ws/general?room=x&access_token=[redacted]&y=1'],
    ['/ws?access_token=a&access_token=b', '/ws?access_token=[redacted]&access_token=[redacted]'],
    ['/ws?access%5Ftoken=a.b.c', '/ws?access%5Ftoken=[redacted]'],
    ['/ws?ACCESS_TOKEN=a.b.c', '/ws?ACCESS_TOKEN=[redacted]'],
    ['/ws?access_token', '/ws?access_token=[redacted]'],
    ['/ws?access_token=a.b#c', '/ws?access_token=[redacted]'],
    ['/ws?my_access_token=keep', '/ws?my_access_token=keep'],
    ['/ws?x=%E0%A4%A', '/ws?x=%E0%A4%A'],
    ['/ws?%E0%A4%A=1&access_token=t', '/ws?%E0%A4%A=1&access_token=[redacted]']
  ]
  for (const [url, expected] of cases) t.equal(redactUrl(url), expected, url)
})

t.test('redactRequest logs what Fastify logs, minus the token', async t => {
  const request = { method: 'GET', url: '/ws?access_token=t', host: 'h', ip: '127.0.0.1', socket: { remotePort: 5 }, headers: { authorization: 'Bearer t' } }
  t.same(redactRequest(request as any), { method: 'GET', url: '/ws?access_token=[redacted]', host: 'h', remoteAddress: '127.0.0.1', remotePort: 5 })
})

t.test('redactedLogger puts the serializer inside the logger options, over any other', async t => {
  t.equal(redactedLogger(undefined), false)
  t.equal(redactedLogger(false), false)
  t.same(redactedLogger(true), { serializers: { req: redactRequest } })
  const own = () => ({ url: 'whatever the caller logs' })
  const res = () => ({ statusCode: 200 })
  t.same(redactedLogger({ level: 'warn', serializers: { req: own, res } }), { level: 'warn', serializers: { req: redactRequest, res } })
})
