// The header's figures: this instance's connections, and how many of them are in the room on
// screen, polled from `ws/stats`.
import { $ } from './page.js'
import { state } from './state.js'

const STATS_INTERVAL_MS = 2000

async function pollStats () {
  const token = $('token').value.trim()
  // Before a join without a token the page cannot tell whether auth is on: no request that would
  // only be refused.
  if (state.client === null && token === '') return
  try {
    // In a header: a query string ends up in proxy logs and browser history. (The socket itself
    // must use the query: browsers cannot set headers on a WebSocket.)
    const res = await fetch('ws/stats', token === '' ? {} : { headers: { authorization: `Bearer ${token}` } })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    const stats = await res.json()
    $('connections').textContent = String(stats.connections)
    $('room-count').textContent = state.room === null ? '–' : String(stats.rooms[state.room] ?? 0)
    if (state.client === null) $('instance').textContent = stats.instanceId
  } catch {
    $('connections').textContent = '–'
  }
}

export function pollStatsForever () {
  pollStats()
  setInterval(pollStats, STATS_INTERVAL_MS)
}
