// The demo page's logic: the compiled chat-api client, straight from the same server (no bundler).
// Every URL is relative to the page, so the demo works under any prefix.
import { ChatClient } from '../client/index.js'

const STATS_INTERVAL_MS = 2000
const MAX_NAME_CHARS = 40

const $ = (id) => document.getElementById(id)
let client = null
let clientToken = null
let room = null

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

function addLine (className, parts) {
  const li = document.createElement('li')
  li.className = className
  for (const [cls, text] of parts) {
    const span = document.createElement('span')
    span.className = cls
    span.textContent = text // never innerHTML: `data` comes from any client
    li.append(span)
  }
  $('messages').append(li)
  li.scrollIntoView({ block: 'end' })
  return li
}

/** Other clients may send any JSON; the page shows `{ name, text }` and falls back for the rest. */
function showMessage (frame) {
  const data = frame.data !== null && typeof frame.data === 'object' ? frame.data : {}
  const name = typeof data.name === 'string' && data.name !== '' ? data.name.slice(0, MAX_NAME_CHARS) : (frame.from.user ?? 'anonymous')
  const text = typeof data.text === 'string' ? data.text : JSON.stringify(frame.data)
  const mine = frame.from.connectionId === client?.welcome?.connectionId
  const li = addLine(mine ? 'message mine' : 'message', [
    ['who', name], ['text', text], ['time', new Date(frame.ts).toLocaleTimeString()]
  ])
  li.dataset.messageId = frame.messageId
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
    $('status').textContent = reconnectInMs === null ? `closed (${code})` : `reconnecting in ${reconnectInMs} ms`
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
