/** The typed client's `presence()`, its member events, and a RoomPresence list kept live by them. */
import t from 'tap'
import { ChatClient, RoomPresence, type ChatClientOptions } from '../../src/client/index.js'
import { eventually, listen } from '../helper.js'

interface Teardown { teardown: (fn: () => unknown) => void }

function client (t: Teardown, opts: ChatClientOptions): ChatClient {
  const chat = new ChatClient(opts)
  t.teardown(() => chat.close())
  return chat
}

t.test('presence(), member_joined / member_left events, and a live RoomPresence', async t => {
  const { url } = await listen(t)
  const alice = client(t, { url: `${url}/ws`, rooms: ['general'] })
  const aliceWelcome = await alice.connect()
  const people = new RoomPresence(alice, 'general')
  t.teardown(() => people.stop())
  await people.refresh()
  t.same([...people.members.keys()], [aliceWelcome.connectionId])

  const joined = new Promise(resolve => alice.once('member_joined', resolve))
  const bob = client(t, { url: `${url}/ws`, rooms: ['general'] })
  const bobWelcome = await bob.connect()
  t.same(await joined, { type: 'member_joined', room: 'general', member: { connectionId: bobWelcome.connectionId, user: null } })
  await eventually(() => people.members.has(bobWelcome.connectionId))
  t.equal(people.count, 2)
  t.match(await bob.presence('general'), { type: 'presence', room: 'general', count: 2 })

  const left = new Promise(resolve => alice.once('member_left', resolve))
  await bob.close()
  t.match(await left, { type: 'member_left', room: 'general', member: { connectionId: bobWelcome.connectionId } })
  await eventually(() => !people.members.has(bobWelcome.connectionId))
  t.equal(people.count, 1)
})
