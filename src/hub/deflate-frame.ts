/**
 * permessage-deflate (RFC 7692) done by chat-api, not by ws: a message is compressed once, on the
 * main thread, with no context, and the same compressed frame is written to every socket that
 * negotiated the extension. ws's own deflate keeps a zlib stream per socket and runs it on the
 * thread pool (ws issue 1202: memory fragmentation); on the fan-out path that is one compression
 * per recipient. ws only negotiates the extension and inflates what clients send.
 */
import { constants, deflateRawSync } from 'node:zlib'
import type { WebSocket } from 'ws'
import { textFrame } from './frame-writer.js'

/** What the WebSocket server must be given to negotiate the extension the way this file needs it. */
export const PER_MESSAGE_DEFLATE_OPTIONS = Object.freeze({
  // Every message stands alone: one compressed frame is valid on every socket, and no socket
  // keeps a compression window. Clients are asked the same, so their inflate state stays small.
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  // ws never compresses a send itself (it would allocate a zlib stream per socket): every frame of
  // ours is either plain or compressed here.
  threshold: Infinity
})

/**
 * zlib level 1: on chat-like JSON it keeps ~90% of level 6's gain at ~70% of its CPU (bench
 * `compression`), and the CPU is what the fan-out pays for on the event loop.
 */
const DEFLATE_OPTIONS = { level: 1, finishFlush: constants.Z_SYNC_FLUSH }
/** A sync flush ends with an empty stored block, which RFC 7692 says to strip (7.2.1). */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff])
/** The window zlib compresses with (its default); a peer that asked for a smaller one gets plain frames. */
const WINDOW_BITS = 15

let deflateCalls = 0

/** How many messages this process compressed: tests check that a fan-out compresses once. */
export function deflateCount (): number {
  return deflateCalls
}

/**
 * The compressed frame (RSV1 set) carrying `payload`, or null when compression does not make it
 * smaller (the caller sends the plain frame, which is always valid on a compressed socket).
 */
export function deflatedFrame (payload: Buffer): Buffer | null {
  deflateCalls++
  const out = deflateRawSync(payload, DEFLATE_OPTIONS)
  const end = out.length - TRAILER.length
  if (end < 0 || out.compare(TRAILER, 0, TRAILER.length, end) !== 0) return null
  if (end >= payload.length) return null
  return textFrame(out.subarray(0, end), true)
}

/** The parts of ws 8's PerMessageDeflate that are not in its typings (lib/permessage-deflate.js). */
interface DeflateInternals {
  _extensions?: Record<string, { params?: Record<string, unknown> | null } | undefined>
}

/**
 * True when our compressed frames are valid on this socket: it negotiated permessage-deflate with
 * server_no_context_takeover (a server that keeps context, e.g. an embedding host's ws, would
 * break ours and theirs) and without a server window smaller than ours. False if ws's internals
 * are not what we expect: plain frames are always valid.
 */
export function takesOurDeflate (socket: WebSocket): boolean {
  if (socket.extensions !== 'permessage-deflate') return false
  const params = (socket as unknown as DeflateInternals)._extensions?.['permessage-deflate']?.params
  if (params == null || params.server_no_context_takeover !== true) return false
  const window = params.server_max_window_bits
  return window === undefined || window === WINDOW_BITS
}
