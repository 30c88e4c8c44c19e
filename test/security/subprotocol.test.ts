/**
 * The 101 never echoes what a client put in Sec-WebSocket-Protocol (a token, say): only the
 * fixed name `chat-api` is ever selected, and only when offered.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { once } from 'node:events'
import type { Duplex } from 'node:stream'
import t from 'tap'
import { listen } from '../helper.js'

/** A raw upgrade request; resolves with the 101's headers. */
async function upgradeHeaders (http: string, protocols: string): Promise<IncomingMessage['headers']> {
  const req = httpRequest(`${http}/ws`, {
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'),
      'sec-websocket-protocol': protocols
    }
  })
  req.end()
  const [res, socket] = await once(req, 'upgrade') as [IncomingMessage, Duplex]
  socket.destroy()
  return res.headers
}

t.test('a token offered as a subprotocol does not come back in the 101', async t => {
  const { http } = await listen(t)
  const secret = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl'
  const headers = await upgradeHeaders(http, `${secret}, other`)
  t.equal(headers['sec-websocket-protocol'], undefined, 'no subprotocol selected')
  t.notOk(JSON.stringify(headers).includes(secret), 'the token is nowhere in the 101')
  t.equal((await upgradeHeaders(http, `${secret}, chat-api`))['sec-websocket-protocol'], 'chat-api', 'our own name is selected when offered')
})
