import type { ErrorFrame } from '../schemas/frames.js'

/**
 * Why a request failed: a server error code (`not_in_room`, `forbidden`, ...), or one of the
 * client's own: `timeout` (no reply in time), `disconnected` (the socket closed before the reply),
 * `closed` (`close()` was called).
 */
export type ChatErrorCode = ErrorFrame['code'] | 'timeout' | 'disconnected' | 'closed' | 'socket_error'

export class ChatError extends Error {
  override readonly name = 'ChatError'
  /** For a failed `send`: its idempotency key, to send the same message again without a duplicate. */
  key?: string

  constructor (readonly code: ChatErrorCode, message: string, readonly frame?: ErrorFrame) {
    super(message)
  }
}
