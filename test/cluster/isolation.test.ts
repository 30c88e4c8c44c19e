import { test } from 'tap'
import { connect } from '../helper.js'
import { adminClient, channelsUnder, clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

test('two clusters on one Redis with different prefixes never hear each other', async (t) => {
  const admin = adminClient(t)
  const [red, blue] = [uniquePrefix(), uniquePrefix()]
  const redA = await clusterApp(t, TEST_REDIS_URL, red)
  const redB = await clusterApp(t, TEST_REDIS_URL, red)
  const blueA = await clusterApp(t, TEST_REDIS_URL, blue)
  const blueB = await clusterApp(t, TEST_REDIS_URL, blue)

  // The same room name in both clusters.
  const redSender = await connect(t, `${redA.url}/ws/lobby`)
  const redReceiver = await connect(t, `${redB.url}/ws/lobby`)
  const blueSender = await connect(t, `${blueA.url}/ws/lobby`)
  const blueReceiver = await connect(t, `${blueB.url}/ws/lobby`)

  t.same(await channelsUnder(admin, red), [`${red}:all`, `${red}:control`, `${red}:room:{lobby}`])
  t.same(await channelsUnder(admin, blue), [`${blue}:all`, `${blue}:control`, `${blue}:room:{lobby}`])

  redSender.send({ type: 'message', room: 'lobby', data: { tag: 'red' } })
  redSender.send({ type: 'broadcast', data: { tag: 'red-all' } })
  t.equal((await redReceiver.next('message')).data.tag, 'red')
  t.equal((await redReceiver.next('broadcast')).data.tag, 'red-all')

  // Had blue's subscriber heard red's channels, red's frames would have reached it before this
  // later one: Redis keeps publish order on each subscriber connection.
  blueSender.send({ type: 'message', room: 'lobby', data: { tag: 'blue' } })
  await blueReceiver.next(f => f.type === 'message' && f.data.tag === 'blue')
  // With history on, the sender's own copy comes back through Redis too.
  await blueSender.next(f => f.type === 'message' && f.data.tag === 'blue')
  // Presence events of blue's own room are blue's; nothing else may have arrived.
  const heard = (client: typeof blueSender) => client.frames.filter(f => !['welcome', 'member_joined', 'member_left'].includes(f.type)).map(f => f.data.tag)
  t.same(heard(blueReceiver), ['blue'])
  t.same(heard(blueSender), ['blue'])
})
