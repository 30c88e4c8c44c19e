/**
 * The presence cap: a room of more than PRESENCE_MEMBERS_MAX (1000) members answers with the
 * full `count` and at most 1000 distinct `members`, each a real member, on the WebSocket and over
 * HTTP, with two instances sharing Redis (the list script walks the room only as far as the cap).
 * Only that case: each join is told to every member, so a room this size costs half a million
 * frames written by the server.
 */
import { once } from 'node:events'
import { test } from 'tap'
import WebSocket from 'ws'
import { connect, eventually } from '../helper.js'
import { clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

const CAP = 1000
const MEMBERS = CAP + 5

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * `n` plain sockets in room `r` (URL join), spread over `urls`, with their connectionIds. Each
 * join is told to every member, half a million frames here: past its welcome a socket stops
 * reading (about 100 KB of events each waits in TCP buffers, well under WS_MAX_BUFFERED_BYTES).
 */
async function members (t: Teardown, urls: string[], n: number): Promise<string[]> {
  const ids: string[] = []
  for (let start = 0; start < n; start += 50) {
    await Promise.all(Array.from({ length: Math.min(50, n - start) }, async (_, k) => {
      const ws = new WebSocket(`${urls[(start + k) % urls.length]}/ws/r`)
      t.teardown(() => { ws.terminate() })
      const [welcome] = await once(ws, 'message')
      ws.pause()
      ids.push(JSON.parse(welcome.toString()).connectionId)
    }))
  }
  return ids
}

test('a room of more than 1000 members on two instances sharing Redis', async (t) => {
  const prefix = uniquePrefix()
  const a = await clusterApp(t, TEST_REDIS_URL, prefix)
  const b = await clusterApp(t, TEST_REDIS_URL, prefix)
  const urls = [a.url, b.url]
  const ids = new Set(await members(t, urls, MEMBERS))
  t.equal(ids.size, MEMBERS)
  const asker = await connect(t, `${urls[0]}/ws`)
  // Joins are told to presence once each `joined` went out: wait for the full count.
  let reply: any
  await eventually(async () => {
    reply = await asker.request({ type: 'presence', room: 'r' })
    return reply.count === MEMBERS
  }, 30_000).catch(() => {})
  t.equal(reply.count, MEMBERS, 'count is the total')
  t.equal(reply.members.length, CAP, `members lists ${CAP} of them`)
  const listed = reply.members.map((m: { connectionId: string }) => m.connectionId)
  t.equal(new Set(listed).size, CAP, 'each once')
  t.ok(listed.every((id: string) => ids.has(id)), 'each a member')
  const res = await fetch(`${b.http}/rooms/r/presence`)
  const body = await res.json() as { count: number, members: unknown[] }
  t.equal(res.status, 200)
  t.equal(body.count, MEMBERS, 'HTTP: the same count')
  t.equal(body.members.length, CAP, `HTTP: ${CAP} members`)
})
