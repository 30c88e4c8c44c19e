// Read state on the demo page (auth and history on): an unread badge per room, "seen by" under
// the last message of the open room, and last seen for people who wrote here but have left.
// Reading is explicit, as a person does it: a click or a scroll in the messages, a focus of the
// window, or sending a message marks the open room read up to its last message.
import { UnreadCounts } from '../client/index.js'

const $ = (id) => document.getElementById(id)

export class ReadStateView {
  /**
   * @param chat the page's ChatClient
   * @param currentRoom () => the open room, or null
   * @param token () => the page's token, for the status requests
   * @param openRoom (room) => switches the page to that room
   */
  constructor (chat, currentRoom, token, openRoom) {
    this.chat = chat
    this.currentRoom = currentRoom
    this.token = token
    this.openRoom = openRoom
    this.counts = new UnreadCounts(chat)
    /** user -> offset read, in the open room (others' receipts). */
    this.seenBy = new Map()
    this.counts.on('change', () => this.renderBadges())
    chat.on('read_receipt', (r) => {
      if (r.room !== this.currentRoom() || r.user === chat.welcome?.user) return
      this.seenBy.set(r.user, r.offset)
      this.renderSeenBy()
    })
    chat.on('message', (m) => { if (m.room === this.currentRoom() && m.transient !== true) this.renderSeenBy() })
  }

  /** The open room changed: its count joins the list, and "seen by" starts over. */
  async roomOpened (room) {
    this.seenBy.clear()
    this.renderSeenBy()
    try {
      await this.counts.refresh([room])
    } catch {} // auth or history off: no badges
  }

  /** Marks the open room read up to the last message the page got. */
  readNow () {
    const room = this.currentRoom()
    const last = room === null ? undefined : this.chat.positions.get(room)
    if (last === undefined || last.offset === 0 || !this.counts.rooms.has(room)) return
    this.counts.markRead(room, last.offset).catch(() => {})
  }

  renderBadges () {
    const items = [...this.counts.rooms].sort(([a], [b]) => a.localeCompare(b)).map(([room, row]) => {
      const li = document.createElement('li')
      const name = document.createElement('button')
      name.type = 'button'
      name.className = 'room-name'
      name.textContent = room
      name.addEventListener('click', () => this.openRoom(room))
      const badge = document.createElement('span')
      badge.className = row.unread > 0 ? 'badge' : 'badge read'
      badge.dataset.room = room
      badge.textContent = String(row.unread)
      li.append(name, badge)
      return li
    })
    $('rooms-list').replaceChildren(...items)
  }

  /** Who (not us) has read the open room up to its last message. */
  renderSeenBy () {
    const room = this.currentRoom()
    const last = room === null ? undefined : this.chat.positions.get(room)
    const who = last === undefined ? [] : [...this.seenBy].filter(([, offset]) => offset >= last.offset).map(([user]) => user)
    $('seen-by').textContent = who.length === 0 ? '' : `seen by ${who.sort().join(', ')}`
  }

  /** Last seen of `users` (who wrote here but are not in the room now), from the status route. */
  async renderLastSeen (users) {
    const token = this.token()
    const rows = await Promise.all(users.map(async (user) => {
      try {
        const res = await fetch(`users/${encodeURIComponent(user)}/status`, { headers: { authorization: `Bearer ${token}` } })
        return res.ok ? await res.json() : null
      } catch {
        return null
      }
    }))
    const items = rows.filter(s => s !== null).map((s) => {
      const li = document.createElement('li')
      li.className = 'last-seen'
      li.textContent = s.online ? `${s.user}: online elsewhere` : `${s.user}: last seen ${s.lastSeen === null ? 'long ago' : new Date(s.lastSeen).toLocaleTimeString()}`
      return li
    })
    $('last-seen-list').replaceChildren(...items)
  }

  close () {
    this.counts.close()
  }
}
