/**
 * React Native has no `globalThis.crypto` without a polyfill: the client's keys must still be made
 * (unique, not secret), so keyed sends work and two sends never share a key.
 */
import t from 'tap'
import { ChatClient } from '../../src/client/index.js'
import { randomKey } from '../../src/client/random-key.js'
import { listen } from '../helper.js'

const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'crypto')
delete (globalThis as { crypto?: unknown }).crypto
t.teardown(() => { if (descriptor !== undefined) Object.defineProperty(globalThis, 'crypto', descriptor) })

t.test('without Web Crypto: keys are made, unique and within 64 characters; keyed sends are stored', async t => {
  t.equal((globalThis as { crypto?: unknown }).crypto, undefined, 'no Web Crypto here')
  const keys = new Set(Array.from({ length: 10_000 }, () => randomKey()))
  t.equal(keys.size, 10_000, 'no two alike')
  t.ok([...keys].every(key => key.length >= 1 && key.length <= 64), 'each 1 to 64 characters')

  const { url } = await listen(t)
  const chat = new ChatClient({ url: `${url}/ws`, rooms: ['r'] })
  t.teardown(() => chat.close())
  await chat.connect()
  const acks = await Promise.all([chat.send('r', 'one'), chat.send('r', 'two')])
  t.same(acks.map(ack => ack.offset), [1, 2], 'two sends, two keys, two stored messages')
})
