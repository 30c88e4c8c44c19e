/**
 * The `ts` of a serialised message frame, read without parsing it: the hub writes `"ts":MS` after
 * the client's `data` (other server fields may follow), so the last `"ts":` of the frame is ours.
 */
// A Buffer: searching for a string converts it on every call.
const TS_KEY = Buffer.from('"ts":')
const DIGIT_0 = 0x30
const DIGIT_9 = 0x39

/** Milliseconds since the epoch, or -1 when the frame carries no `ts`. */
export function frameTs (frame: Buffer): number {
  const at = frame.lastIndexOf(TS_KEY)
  if (at === -1) return -1
  let ts = 0
  let i = at + TS_KEY.length
  const start = i
  for (; i < frame.length; i++) {
    const byte = frame[i]
    if (byte < DIGIT_0 || byte > DIGIT_9) break
    ts = ts * 10 + byte - DIGIT_0
  }
  return i === start ? -1 : ts
}
