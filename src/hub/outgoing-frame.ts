/**
 * One message on its way to many sockets: its payload, and its WebSocket frames built at most
 * once each, when the first recipient needs them (plain, or compressed for the sockets that
 * negotiated permessage-deflate). Made once per message, never per recipient.
 *
 * It also counts its recipients by frame, so that the bytes written reach the instance's count
 * (`chat_api_bytes_sent_total`) in one addition per message, once the delivery is over: the
 * metrics are updated once per message, never per recipient (docs/operations.md).
 */
import { deflatedFrame } from './deflate-frame.js'
import { frameHeadLength, textFrame } from './frame-writer.js'

/** Where the bytes written to an instance's sockets are counted (the hub's, read by the metrics). */
export interface BytesSent {
  bytes: number
}

/** Messages written since the last count: counted in a microtask, after the loop that wrote them. */
let uncounted: OutgoingFrame[] = []

function countWritten (): void {
  const frames = uncounted
  uncounted = []
  for (const frame of frames) frame.count()
}

export class OutgoingFrame {
  private plainFrame: Buffer | null = null
  /** undefined: not tried yet; null: compression did not make it smaller. */
  private deflated: Buffer | null | undefined = undefined
  /** Sockets written to since the last count, by frame, and where their bytes are counted. */
  private plainWrites = 0
  private compressedWrites = 0
  private sent: BytesSent | null = null

  constructor (readonly payload: Buffer) {}

  plain (): Buffer {
    return (this.plainFrame ??= textFrame(this.payload))
  }

  /** The compressed frame, or the plain one when compressing does not shrink it. */
  compressed (): Buffer {
    if (this.deflated === undefined) this.deflated = deflatedFrame(this.payload)
    return this.deflated ?? this.plain()
  }

  /**
   * One more socket got the message: `compressed()` or the plain frame's bytes (`plain()`, or the
   * payload through ws's own send). The first one queues the message to be counted.
   */
  wrote (compressed: boolean, sent: BytesSent): void {
    if (compressed) this.compressedWrites++
    else this.plainWrites++
    if (this.sent !== null) return
    this.sent = sent
    if (uncounted.length === 0) queueMicrotask(countWritten)
    uncounted.push(this)
  }

  /** Adds the bytes of the writes since the last count, in one addition. */
  count (): void {
    if (this.sent === null) return
    const plain = frameHeadLength(this.payload.length) + this.payload.length
    this.sent.bytes += this.plainWrites * plain + this.compressedWrites * (this.deflated?.length ?? plain)
    this.plainWrites = 0
    this.compressedWrites = 0
    this.sent = null
  }
}
