// The demo page's entry module: the compiled chat-api client, straight from the same server (no
// bundler), and the page's modules beside this one: page.js (elements), state.js (what they
// share), people.js (member list and names), typing.js, messages.js (live and history),
// read-state.js (unread, seen by, last seen), stats.js. Every URL is relative to the page, so the
// demo works under any prefix.
import { ChatClient } from '../client/index.js'
import { loadHistory, showMessage } from './messages.js'
import { $, addLine, notice, setConnected, wsUrl } from './page.js'
import { followPresence, nameOf, sayHello } from './people.js'
import { ReadStateView } from './read-state.js'
import { pollStatsForever } from './stats.js'
import { state } from './state.js'
import { clearTyping, messageSent, showTyping, stopTyping, typed } from './typing.js'

const params = new URLSearchParams(document.location.search)
$('name').value = params.get('name') ?? ''
if (params.has('room')) $('room').value = params.get('room')

function createClient (token) {
  const chat = new ChatClient({ url: wsUrl(), token: token === '' ? undefined : token })
  chat.on('open', ({ welcome, reconnected }) => {
    $('status').textContent = 'connected'
    $('instance').textContent = welcome.instanceId
    setConnected(true)
    if (reconnected) addLine('system', [['text', `reconnected, to instance ${welcome.instanceId}`]])
    if (reconnected && state.room !== null) sayHello()
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
    if (event.room === state.room) addLine('system', [['text', 'back: nothing missed']])
  })
  chat.on('gap', (event) => {
    document.body.classList.remove('reconnecting')
    if (event.room !== state.room) return
    addLine('system', [['text', 'some messages could not be replayed; reloading the last ones']])
    loadHistory(state.room)
  })
  chat.on('message', (frame) => {
    if (frame.room !== state.room) return
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
  state.reads?.close()
  state.reads = new ReadStateView(chat, () => state.room, () => state.clientToken, (next) => {
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
  if (state.client !== null && token !== state.clientToken) {
    await state.client.close()
    state.client = null
  }
  if (state.client === null) {
    state.client = createClient(token)
    state.clientToken = token
    $('status').textContent = 'connecting'
    state.client.connect().catch((err) => notice(`${err.code}: ${err.message}`))
  }
  try {
    if (state.room !== null && state.room !== next && state.client.rooms.has(state.room)) await state.client.leave(state.room)
    state.room = next
    clearTyping()
    await state.client.join(state.room)
    addLine('system', [['text', `joined ${state.room}`]])
    followPresence(state.room)
    sayHello()
    await loadHistory(state.room)
    state.reads.roomOpened(state.room)
    $('text').focus()
  } catch (err) {
    notice(`${err.code}: ${err.message}`)
  }
})

$('text').addEventListener('input', typed)

$('send-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const input = $('text')
  const text = input.value
  if (text === '' || state.room === null) return
  try {
    await state.client.send(state.room, { name: $('name').value.trim(), text })
    input.value = ''
    messageSent()
    state.reads?.readNow()
  } catch (err) {
    notice(`${err.code}: ${err.message}`)
  }
})

// Reading is something a person does: a click or a scroll in the messages, or coming back to the window.
for (const [target, event] of [[document.querySelector('main'), 'click'], [document.querySelector('main'), 'scroll'], [window, 'focus']]) {
  target.addEventListener(event, () => state.reads?.readNow())
}

pollStatsForever()
