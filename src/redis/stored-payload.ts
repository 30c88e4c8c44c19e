/**
 * What append.lua publishes for a stored message: `=<offset> <epoch>\n` then the frame. The
 * header is read byte by byte, so a receiver learns where the message stands in the room without
 * decoding or parsing the frame, which it hands on as a view of the payload.
 */
const MARK = 0x3d // '=': an envelope of a non-stored message starts with a UUID, never with this
const SPACE = 0x20
const NEWLINE = 0x0a
const OPEN_BRACE = 0x7b
const ZERO = 0x30
const MAX_HEADER_BYTES = 64

export interface StoredPayload {
  offset: number
  epoch: string
  frame: Buffer
}

export function isStoredPayload (payload: Buffer): boolean {
  return payload.length > 0 && payload[0] === MARK
}

/** The parts of a stored message's payload; null when it is malformed. */
export function openStoredPayload (payload: Buffer): StoredPayload | null {
  let offset = 0
  let i = 1
  for (; i < payload.length && i < MAX_HEADER_BYTES; i++) {
    const digit = payload[i] - ZERO
    if (digit < 0 || digit > 9) break
    offset = offset * 10 + digit
  }
  if (i === 1 || payload[i] !== SPACE || offset < 1) return null
  const newline = payload.indexOf(NEWLINE, i + 1)
  if (newline <= i + 1 || newline > MAX_HEADER_BYTES || payload[newline + 1] !== OPEN_BRACE) return null
  return { offset, epoch: payload.toString('latin1', i + 1, newline), frame: payload.subarray(newline + 1) }
}
