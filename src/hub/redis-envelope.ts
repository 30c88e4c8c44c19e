/**
 * What one instance publishes on Redis: its instanceId (fixed length), a separator, then the
 * frame exactly as the hub serialised it. A receiver reads the origin by comparing bytes and hands
 * the frame on as a view of the payload: nothing is decoded, parsed or copied per recipient.
 */
export const ORIGIN_BYTES = 36 // a randomUUID()
const SEPARATOR = 0x0a // '\n' never occurs in a UUID
const HEADER_BYTES = ORIGIN_BYTES + 1
const OPEN_BRACE = 0x7b // every frame is a JSON object

/** `open()`'s answer for a payload this instance published itself (Redis echoes it back). */
export const OWN_ECHO = Symbol('own echo')

export class EnvelopeCodec {
  private readonly header: Buffer

  constructor (instanceId: string) {
    const origin = Buffer.from(instanceId, 'latin1')
    if (origin.length !== ORIGIN_BYTES || origin.includes(SEPARATOR)) {
      throw new Error(`instanceId must be ${ORIGIN_BYTES} bytes without a newline, got ${JSON.stringify(instanceId)}`)
    }
    this.header = Buffer.concat([origin, Buffer.of(SEPARATOR)])
  }

  seal (frame: Buffer): Buffer {
    return Buffer.concat([this.header, frame], HEADER_BYTES + frame.length)
  }

  /** The frame of another instance's envelope; OWN_ECHO for ours; null when malformed. */
  open (payload: Buffer): Buffer | typeof OWN_ECHO | null {
    if (payload.length <= HEADER_BYTES || payload[ORIGIN_BYTES] !== SEPARATOR || payload[HEADER_BYTES] !== OPEN_BRACE) {
      return null
    }
    if (this.header.compare(payload, 0, ORIGIN_BYTES, 0, ORIGIN_BYTES) === 0) return OWN_ECHO
    return payload.subarray(HEADER_BYTES)
  }
}
