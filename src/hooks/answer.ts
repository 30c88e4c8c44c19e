/**
 * Reads a hook's answer, the same way for an embedded function's return value and for the JSON
 * that HOOK_URL sent back. Anything that is not a well-formed answer is a failure of the hook
 * (HOOK_FAILURE decides), never a guess: a malformed "allow" must not let a message through.
 */
import { serialiseData } from '../serialise-data.js'
import type { HookName } from './types.js'

/** Largest `meta` a connect hook may attach, as JSON (the contract's 1 KiB). */
export const MAX_META_BYTES = 1024
/** Longest `reason` passed on to the client; a longer one is cut, not refused. */
export const MAX_REASON_CHARS = 256

export type ReadAnswer =
  | { ok: true, allow: true, meta?: string, data?: string }
  | { ok: true, allow: false, reason: string }
  /** The rewrite is well formed but larger than a message may be: refused whatever HOOK_FAILURE says. */
  | { ok: false, tooLarge: true, problem: string }
  | { ok: false, tooLarge: false, problem: string }

function malformed (problem: string): ReadAnswer {
  return { ok: false, tooLarge: false, problem }
}

/** `maxDataBytes`: the bound of a rewritten `data` (WS_MAX_MESSAGE_BYTES, as for a client's frame). */
export function readAnswer (hook: HookName, answer: unknown, maxDataBytes: number): ReadAnswer {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return malformed('the answer is not a JSON object')
  const { allow, reason, meta, data } = answer as Record<string, unknown>
  if (typeof allow !== 'boolean') return malformed('"allow" is not a boolean')
  if (reason !== undefined && typeof reason !== 'string') return malformed('"reason" is not a string')
  if (!allow) {
    const text = reason === undefined || reason === '' ? `refused by the ${hook} hook` : reason.slice(0, MAX_REASON_CHARS)
    return { ok: true, allow: false, reason: text }
  }
  const allowed: { ok: true, allow: true, meta?: string, data?: string } = { ok: true, allow: true }
  if (hook === 'connect' && meta !== undefined) {
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return malformed('"meta" is not a JSON object')
    const json = serialiseData(meta)
    if (json === null) return malformed('"meta" cannot be serialised')
    if (Buffer.byteLength(json) > MAX_META_BYTES) return malformed(`"meta" is larger than ${MAX_META_BYTES} bytes as JSON`)
    allowed.meta = json
  }
  // `data: undefined` from a function is JSON's absent key: no rewrite. `null` is a rewrite to null.
  if (hook === 'publish' && data !== undefined) {
    const json = serialiseData(data)
    if (typeof json !== 'string') return malformed('"data" cannot be serialised (too deep, or not JSON)')
    // The sender's frame was checked against the bound; a rewrite must not bring in what it keeps out.
    if (Buffer.byteLength(json) > maxDataBytes) {
      return { ok: false, tooLarge: true, problem: `the publish hook's "data" is larger than ${maxDataBytes} bytes (WS_MAX_MESSAGE_BYTES)` }
    }
    allowed.data = json
  }
  return allowed
}
