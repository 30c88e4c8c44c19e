// The messages of the room on screen: live ones as they come, and its last stored ones (history)
// after a join or a gap, each shown once.
import { addLine, notice } from './page.js'
import { nameOf } from './people.js'
import { state } from './state.js'

const HISTORY_LIMIT = 50
/** messageIds on the page: history loaded after a join or a gap never shows a message twice. */
const shown = new Set()

/** Other clients may send any JSON; the page shows `{ name, text }` and falls back for the rest. */
export function showMessage (frame, before = null) {
  if (shown.has(frame.messageId)) return
  shown.add(frame.messageId)
  const name = nameOf(frame)
  const text = typeof frame.data?.text === 'string' ? frame.data.text : JSON.stringify(frame.data)
  const mine = frame.from.connectionId === state.client?.welcome?.connectionId
  const li = addLine(mine ? 'message mine' : 'message', [
    ['who', name], ['text', text], ['time', new Date(frame.ts).toLocaleTimeString()]
  ], before)
  li.dataset.messageId = frame.messageId
}

/** The room's last stored messages, placed before whatever arrived live meanwhile. */
export async function loadHistory (name) {
  try {
    const page = await state.client.history(name, { limit: HISTORY_LIMIT })
    if (name !== state.room) return
    const firstLive = document.querySelector('#messages li.message')
    for (const frame of page.messages) showMessage(frame, firstLive)
  } catch (err) {
    // history_disabled (HISTORY_SIZE=0) or unavailable: the page shows live messages only.
    if (err.code !== 'history_disabled') notice(`${err.code}: ${err.message}`)
  }
}
