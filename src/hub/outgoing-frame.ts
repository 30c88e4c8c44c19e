/**
 * One message on its way to many sockets: its payload, and its WebSocket frames built at most
 * once each, when the first recipient needs them (plain, or compressed for the sockets that
 * negotiated permessage-deflate). Made once per message, never per recipient.
 */
import { deflatedFrame } from './deflate-frame.js'
import { textFrame } from './frame-writer.js'

export class OutgoingFrame {
  private plainFrame: Buffer | null = null
  /** undefined: not tried yet; null: compression did not make it smaller. */
  private deflated: Buffer | null | undefined = undefined

  constructor (readonly payload: Buffer) {}

  plain (): Buffer {
    return (this.plainFrame ??= textFrame(this.payload))
  }

  /** The compressed frame, or the plain one when compressing does not shrink it. */
  compressed (): Buffer {
    if (this.deflated === undefined) this.deflated = deflatedFrame(this.payload)
    return this.deflated ?? this.plain()
  }
}
