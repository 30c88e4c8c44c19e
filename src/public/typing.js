// "… is typing": transient messages `{ typing: true, name }`, not stored, sent at most every
// TYPING_EVERY_MS while this page's user types, and each shown TYPING_SHOWN_MS unless another follows.
import { $ } from './page.js'
import { nameOf } from './people.js'
import { state } from './state.js'

const TYPING_EVERY_MS = 2000
const TYPING_SHOWN_MS = 3500

/** connectionId -> { name, timer } of who is typing now. */
const typing = new Map()
let lastTypingSent = 0

/** The text field changed: tells the room, unless it was told a moment ago. */
export function typed () {
  const now = Date.now()
  if (state.room === null || $('text').value === '' || now - lastTypingSent < TYPING_EVERY_MS) return
  lastTypingSent = now
  state.client.send(state.room, { typing: true, name: $('name').value.trim() }, { transient: true }).catch(() => {})
}

/** A message went out: the next keystroke is news again. */
export function messageSent () {
  lastTypingSent = 0
}

export function showTyping (frame) {
  const id = frame.from.connectionId
  clearTimeout(typing.get(id)?.timer)
  typing.set(id, { name: nameOf(frame), timer: setTimeout(() => stopTyping(id), TYPING_SHOWN_MS) })
  renderTyping()
}

export function stopTyping (id) {
  clearTimeout(typing.get(id)?.timer)
  if (typing.delete(id)) renderTyping()
}

/** Another room on screen: nobody types in it yet. */
export function clearTyping () {
  typing.clear()
  renderTyping()
}

function renderTyping () {
  const who = [...typing.values()].map(t => t.name)
  $('typing').textContent = who.length === 0 ? '' : `${who.join(', ')} ${who.length === 1 ? 'is' : 'are'} typing…`
}
