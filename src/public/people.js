// Who is in the room on screen: the live member list (presence) and the name each connection uses.
import { RoomPresence } from '../client/index.js'
import { $, notice } from './page.js'
import { authOn, state } from './state.js'

const MAX_NAME_CHARS = 40
/** The names seen in messages, by connectionId. */
const names = new Map()

/**
 * Who sent a message. With auth on it is the token's `sub` (`from.user`), which the server vouches
 * for: a name in `data` is the sender's to choose, and anyone could post as "admin". With auth off
 * there is nothing better than that name. Remembered for the member list.
 */
export function nameOf (frame) {
  const data = frame.data !== null && typeof frame.data === 'object' ? frame.data : {}
  const chosen = typeof data.name === 'string' && data.name !== '' ? data.name.slice(0, MAX_NAME_CHARS) : null
  // A server API message sent with the API key has no user.
  const name = authOn() ? (frame.from.user ?? 'server') : (chosen ?? frame.from.user ?? 'anonymous')
  if (names.get(frame.from.connectionId) !== name) {
    names.set(frame.from.connectionId, name)
    if (state.people !== null) renderPeople(state.people.members)
  }
  return name
}

/** Presence lists connections: each shows the name it last used here, else its user, else a short id. */
function renderPeople (members) {
  const { client, people, reads } = state
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
export function sayHello () {
  state.client.send(state.room, { hello: true, name: $('name').value.trim() }, { transient: true }).catch(() => {})
}

export function followPresence (name) {
  state.people?.stop()
  const people = new RoomPresence(state.client, name)
  state.people = people
  people.on('change', renderPeople)
  people.refresh().catch((err) => {
    // presence_disabled (PRESENCE_ENABLED=false): no list.
    $('people').hidden = true
    if (err.code !== 'presence_disabled') notice(`${err.code}: ${err.message}`)
  })
}
