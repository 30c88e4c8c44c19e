import type { ErrorCode } from '../protocol.js'
import type { FrameId } from '../schemas/frames.js'

/**
 * Answers a client frame with an `error` (counted by the metrics), carrying the frame's `id`, and a
 * hook's `reason` when a hook refused it. The session's, shared by its frame handlers.
 */
export type SendError = (code: ErrorCode, message: string, id: FrameId | undefined, reason?: string) => void
