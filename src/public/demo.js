// The demo page's logic: the compiled chat-api client, straight from the same server (no bundler).
// Every URL is relative to the page, so the demo works under any prefix.
import { ChatClient, RoomPresence } from '../client/index.js'
import { ReadStateView } from './read-state.js'

const STATS_INTERVAL_MS = 2000
const MAX_NAME_CHARS = 40
/** A typing signal at most this often, shown this long unless another follows. */
const TYPING_EVERY_MS = 2000
const TYPING_SHOWN_MS = 3500

const $ = (id) => document.getElementById(id)
let client = null
let clientToken = null
let room = null
/** messageIds on the page: history loaded after a join or a gap never shows a message twice. */
const shown = new Set()
const HISTORY_LIMIT = 50
/** The room's live member list (presence), and the names seen in messages, by connectionId. */
let people = null
const names = new Map()
/** connectionId -> timer of who is typing now. */
const typing = new Map()
let lastTypingSent = 0
/** Unread badges, "seen by" and last seen (read-state.js); null before the first join. */
let reads = null

const params = new URLSearchParams(document.location.search)
$('name').value = params.get('name') ?? ''
if (params.has('room')) $('room').value = params.get('room')

function wsUrl () {
  const url = new URL('ws', document.location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return url.toString()
}

function notice (text) {
  $('notice').textContent = text
}

function setConnected (connected) {
  $('text').disabled = !connected
  $('send').disabled = !connected
}

function addLine (className, parts, before = null) {
  const li = document.createElement('li')
  li.className = className
  for (const [cls, text] of parts) {
    const span = document.createElement('span')
    span.className = cls
    span.textContent = text // never innerHTML: `data` comes from any client
    li.append(span)
  }
  if (before === null) $('messages').append(li)
  else $('messages').insertBefore(li, before)
  li.scrollIntoView({ block: 'end' })
  return li
}

/** Auth is on when the server named this connection's user (`welcome.user`). */
function authOn () {
  return typeof client?.welcome?.user === 'string'
}

/**
 * Who sent a message. With auth on it is the token's `sub` (`from.user`), which the server vouches
 * for: a name in `data` is the sender's to choose, and anyone could post as "admin". With auth off
 * there is nothing better than that name. Remembered for the member list.
 */
function nameOf (frame) {
  const data = frame.data !== null && typeof frame.data === 'object' ? frame.data : {}
  const chosen = typeof data.name === 'string' && data.name !== '' ? data.name.slice(0, MAX_NAME_CHARS) : null
  // A server API message sent with the API key has no user.
  const name = authOn() ? (frame.from.user ?? 'server') : (chosen ?? frame.from.user ?? 'anonymous')
  if (names.get(frame.from.connectionId) !== name) {
    names.set(frame.from.connectionId, name)
    if (people !== null) renderPeople(people.members)
  }
  return name
}

/** Presence lists connections: each shows the name it last used here, else its user, else a short id. */
function renderPeople (members) {
  const own = client?.welcome?.connectionId
  const items = [...members.values()].map(m => {
    const li = document.createElement('li')
    const name = names.get(m.connectionId) ?? m.user ?? `guest ${m.connectionId.slice(0, 4)}`
    const ownName = authOn() ? client.welcome.user : ($('name').value.trim() || name)
    li.textContent = m.connectionId === own ? `${ownName} (you)` : name
    li.className = m.connectionId === own ? 'me' : ''
    return li
  })
  $('people-list').replaceChildren(...items)
  $('people-count').textContent = `(${people?.count ?? members.size})`
  if (authOn() && reads !== null) {
    // Who wrote here but is not in the room now: their last seen.
    const present = new Set([...members.values()].map(m => m.user))
    reads.renderLastSeen([...new Set(names.values())].filter(user => !present.has(user) && user !== 'server'))
  }
}

/** Presence lists connections, not names: a transient `{ hello: true, name }` tells the room ours. */
function sayHello () {
  client.send(room, { hello: true, name: $('name').value.trim() }, { transient: true }).catch(() => {})
}

function followPresence (name) {
  people?.stop()
  people = new RoomPresence(client, name)
  people.on('change', renderPeople)
  people.refresh().catch((err) => {
    // presence_disabled (PRESENCE_ENABLED=false): no list.
    $('people').hidden = true
    if (err.code !== 'presence_disabled') notice(`${err.code}: ${err.message}`)
  })
}

/** Typing signals are transient messages `{ typing: true, name }`: not stored, at most once. */
function showTyping (frame) {
  const id = frame.from.connectionId
  clearTimeout(typing.get(id)?.timer)
  typing.set(id, { name: nameOf(frame), timer: setTimeout(() => stopTyping(id), TYPING_SHOWN_MS) })
  renderTyping()
}

function stopTyping (id) {
  clearTimeout(typing.get(id)?.timer)
  if (typing.delete(id)) renderTyping()
}

function renderTyping () {
  const who = [...typing.values()].map(t => t.name)
  $('typing').textContent = who.length === 0 ? '' : `${who.join(', ')} ${who.length === 1 ? 'is' : 'are'} typing…`
}

/** Other clients may send any JSON; the page shows `{ name, text }` and falls back for the rest. */
function showMessage (frame, before = null) {
  if (shown.has(frame.messageId)) return
  shown.add(frame.messageId)
  const name = nameOf(frame)
  const text = typeof frame.data?.text === 'string' ? frame.data.text : JSON.stringify(frame.data)
  const mine = frame.from.connectionId === client?.welcome?.connectionId
  const li = addLine(mine ? 'message mine' : 'message', [
    ['who', name], ['text', text], ['time', new Date(frame.ts).toLocaleTimeString()]
  ], before)
  li.dataset.messageId = frame.messageId
}

/** The room's last stored messages, placed before whatever arrived live meanwhile. */
async function loadHistory (name) {
  try {
    const page = await client.history(name, { limit: HISTORY_LIMIT })
    if (name !== room) return
    const firstLive = document.querySelector('#messages li.message')
    for (const frame of page.messages) showMessage(frame, firstLive)
  } catch (err) {
    // history_disabled (HISTORY_SIZE=0) or unavailable: the page shows live messages only.
    if (err.code !== 'history_disabled') notice(`${err.code}: ${err.message}`)
  }
}

function createClient (token) {
  const chat = new ChatClient({ url: wsUrl(), token: token === '' ? undefined : token })
  chat.on('open', ({ welcome, reconnected }) => {
    $('status').textContent = 'connected'
    $('instance').textContent = welcome.instanceId
    setConnected(true)
    if (reconnected) addLine('system', [['text', `reconnected, to instance ${welcome.instanceId}`]])
    if (reconnected && room !== null) sayHello()
  })
  chat.on('close', ({ code, reconnectInMs }) => {
    setConnected(false)
    document.body.classList.toggle('reconnecting', reconnectInMs !== null)
    $('status').textContent = reconnectInMs === null ? `closed (${code})` : `reconnecting in ${reconnectInMs} ms`
  })
  // After a reconnect the client rejoins with its last position: the server replays what was
  // missed (`recovered`), or says it cannot (`gap`), and then the page reloads the last messages.
  // A live message of a new epoch (the room's history was lost, e.g. Redis restarted empty) is a
  // `gap` too, on an open socket.
  chat.on('recovered', (event) => {
    document.body.classList.remove('reconnecting')
    if (event.room === room) addLine('system', [['text', 'back: nothing missed']])
  })
  chat.on('gap', (event) => {
    document.body.classList.remove('reconnecting')
    if (event.room !== room) return
    addLine('system', [['text', 'some messages could not be replayed; reloading the last ones']])
    loadHistory(room)
  })
  chat.on('message', (frame) => {
    if (frame.room !== room) return
    if (frame.transient === true) {
      if (frame.from.connectionId === chat.welcome?.connectionId) return
      if (frame.data?.typing === true) showTyping(frame)
      else nameOf(frame) // a `hello`: the name to show in the member list
      return
    }
    stopTyping(frame.from.connectionId)
    showMessage(frame)
  })
  chat.on('error', (err) => notice(`${err.code}: ${err.message}`))
  reads?.close()
  reads = new ReadStateView(chat, () => room, () => clientToken, (next) => {
    $('room').value = next
    $('join-form').requestSubmit()
  })
  return chat
}

$('join-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  notice('')
  const token = $('token').value.trim()
  const next = $('room').value.trim()
  if (client !== null && token !== clientToken) {
    await client.close()
    client = null
  }
  if (client === null) {
    client = createClient(token)
    clientToken = token
    $('status').textContent = 'connecting'
    client.connect().catch((err) => notice(`${err.code}: ${err.message}`))
  }
  try {
    if (room !== null && room !== next && client.rooms.has(room)) await client.leave(room)
    room = next
    typing.clear()
    renderTyping()
    await client.join(room)
    addLine('system', [['text', `joined ${room}`]])
    followPresence(room)
    sayHello()
    await loadHistory(room)
    reads.roomOpened(room)
    $('text').focus()
  } catch (err) {
    notice(`${err.code}: ${err.message}`)
  }
})

$('text').addEventListener('input', () => {
  const now = Date.now()
  if (room === null || $('text').value === '' || now - lastTypingSent < TYPING_EVERY_MS) return
  lastTypingSent = now
  client.send(room, { typing: true, name: $('name').value.trim() }, { transient: true }).catch(() => {})
})

$('send-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const input = $('text')
  const text = input.value
  if (text === '' || room === null) return
  try {
    await client.send(room, { name: $('name').value.trim(), text })
    input.value = ''
    lastTypingSent = 0
    reads?.readNow()
  } catch (err) {
    notice(`${err.code}: ${err.message}`)
  }
})

// Reading is something a person does: a click or a scroll in the messages, or coming back to the window.
for (const [target, event] of [[document.querySelector('main'), 'click'], [document.querySelector('main'), 'scroll'], [window, 'focus']]) {
  target.addEventListener(event, () => reads?.readNow())
}

async function pollStats () {
  const token = $('token').value.trim()
  // Before a join without a token the page cannot tell whether auth is on: no request that would
  // only be refused.
  if (client === null && token === '') return
  try {
    // In a header: a query string ends up in proxy logs and browser history. (The socket itself
    // must use the query: browsers cannot set headers on a WebSocket.)
    const res = await fetch('ws/stats', token === '' ? {} : { headers: { authorization: `Bearer ${token}` } })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    const stats = await res.json()
    $('connections').textContent = String(stats.connections)
    $('room-count').textContent = room === null ? '–' : String(stats.rooms[room] ?? 0)
    if (client === null) $('instance').textContent = stats.instanceId
  } catch {
    $('connections').textContent = '–'
  }
}

pollStats()
setInterval(pollStats, STATS_INTERVAL_MS)
