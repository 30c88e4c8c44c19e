/**
 * A text frame read in two steps. `readHead` parses the JSON and takes what an answer needs even
 * when the frame is refused: its `id`, and its type for the frame counter. `checkHead` then says
 * whether it is a frame of the protocol, against the schemas (frame-validators.ts). The rate limit
 * sits between the two, so a client over it costs a parse, not a schema check.
 */
import { ErrorCode } from '../protocol.js'
import type { ClientFrame, FrameId } from '../schemas/frames.js'
import { checkFrame, isFrameType, type FrameType } from './frame-validators.js'

/** A type the client made up is echoed in the error this long at most. */
const TYPE_ECHO_CHARS = 64

export interface FrameHead {
  /** The parsed JSON; undefined when `parsed` is false. */
  value: unknown
  parsed: boolean
  /** The frame's `id`, when it is one that can be given back. */
  id: FrameId | undefined
  /** For the frame counter: a frame type of the protocol, else `invalid`. */
  label: FrameType | 'invalid'
}

export type HeadCheck =
  | { ok: true, frame: ClientFrame }
  | { ok: false, code: ErrorCode, message: string }

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function readHead (raw: Buffer): FrameHead {
  let value: unknown
  let parsed = true
  try {
    value = JSON.parse(raw.toString('utf8'))
  } catch {
    parsed = false
  }
  const record = isRecord(value) ? value : undefined
  const rawId = record?.id
  // 1e400 is JSON but Infinity here, which would echo as null: not an id we can give back.
  const id = typeof rawId === 'string' || (typeof rawId === 'number' && Number.isFinite(rawId)) ? rawId : undefined
  const type = record?.type
  return { value, parsed, id, label: typeof type === 'string' && isFrameType(type) ? type : 'invalid' }
}

/** The frame, valid for its type; or the error code and message to answer it with. */
export function checkHead ({ value, parsed }: FrameHead): HeadCheck {
  if (!parsed) return { ok: false, code: ErrorCode.BAD_JSON, message: 'frame is not valid JSON' }
  if (!isRecord(value)) return { ok: false, code: ErrorCode.BAD_FRAME, message: 'a frame is a JSON object' }
  const type = value.type
  if (typeof type !== 'string') return { ok: false, code: ErrorCode.BAD_FRAME, message: 'type must be a string' }
  if (!isFrameType(type)) {
    return { ok: false, code: ErrorCode.UNKNOWN_TYPE, message: `unknown frame type "${type.slice(0, TYPE_ECHO_CHARS)}"` }
  }
  return checkFrame(type, value)
}
