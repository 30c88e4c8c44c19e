// The demo page's logic: the compiled chat-api client, straight from the same server (no bundler).
// Every URL is relative to the page, so the demo works under any prefix.
import { ChatClient } from '../client/index.js'

const STATS_INTERVAL_MS = 2000
const MAX_NAME_CHARS = 40

const $ = (id) => document.getElementById(id)
let client = null
let clientToken = null
let room = null
/** messageIds on the page: history loaded after a join or a gap never shows a message twice. */
const shown = new Set()
const HISTORY_LIMIT = 50

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

/** Other clients may send any JSON; the page shows `{ name, text }` and falls back for the rest. */
function showMessage (frame, before = null) {
  if (shown.has(frame.messageId)) return
  shown.add(frame.messageId)
  const data = frame.data !== null && typeof frame.data === 'object' ? frame.data : {}
  const name = typeof data.name === 'string' && data.name !== '' ? data.name.slice(0, MAX_NAME_CHARS) : (frame.from.user ?? 'anonymous')
  const text = typeof data.text === 'string' ? data.text : JSON.stringify(frame.data)
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
  })
  chat.on('close', ({ code, reconnectInMs }) => {
    setConnected(false)
    document.body.classList.toggle('reconnecting', reconnectInMs !== null)
    $('status').textContent = reconnectInMs === null ? `closed (${code})` : `reconnecting in ${reconnectInMs} ms`
  })
  // After a reconnect the client rejoins with its last position: the server replays what was
  // missed (`recovered`), or says it cannot (`gap`), and then the page reloads the last messages.
  chat.on('recovered', (event) => {
    document.body.classList.remove('reconnecting')
    if (event.room === room) addLine('system', [['text', 'back: nothing missed']])
  })
  chat.on('gap', (event) => {
    document.body.classList.remove('reconnecting')
    if (event.room !== room) return
    addLine('system', [['text', 'back: some messages could not be replayed; reloading the last ones']])
    loadHistory(room)
  })
  chat.on('message', (frame) => { if (frame.room === room) showMessage(frame) })
  chat.on('error', (err) => notice(`${err.code}: ${err.message}`))
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
    await client.join(room)
    addLine('system', [['text', `joined ${room}`]])
    await loadHistory(room)
    $('text').focus()
  } catch (err) {
    notice(`${err.code}: ${err.message}`)
  }
})

$('send-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const input = $('text')
  const text = input.value
  if (text === '' || room === null) return
  try {
    await client.send(room, { name: $('name').value.trim(), text })
    input.value = ''
  } catch (err) {
    notice(`${err.code}: ${err.message}`)
  }
})

async function pollStats () {
  const token = $('token').value.trim()
  try {
    const res = await fetch(token === '' ? 'ws/stats' : `ws/stats?access_token=${encodeURIComponent(token)}`)
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
