/**
 * A message's `data` as JSON, the same way for sockets and the server API. The nesting bound is
 * ours, not the runtime's: JSON.stringify overflows its stack a few thousand levels down on Node 20
 * and 24 but not on Node 26, and the same `data` must get the same answer on every Node.
 */
/** Deepest nesting of arrays and objects accepted in `data`. */
export const MAX_DATA_DEPTH = 1000
export const TOO_DEEP = `data nests deeper than ${MAX_DATA_DEPTH} levels`

/** `data` as JSON, or null when it nests deeper than MAX_DATA_DEPTH (or cannot be serialised). */
export function serialiseData (data: unknown): string | null {
  let json: string
  try {
    json = JSON.stringify(data)
  } catch {
    return null
  }
  return nestsTooDeep(json) ? null : json
}

/** Scans JSON text for its bracket depth, skipping strings; short text cannot nest too deep. */
function nestsTooDeep (json: string): boolean {
  if (json.length <= 2 * MAX_DATA_DEPTH) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_DATA_DEPTH) return true
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return false
}
