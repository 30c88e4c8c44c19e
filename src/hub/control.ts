/**
 * Control messages of the server API, carried to every instance on the control channel: each
 * closes the matching sockets it holds with 4003. The payload is small JSON, parsed once per
 * instance; a malformed one is dropped.
 */
import { CloseCode } from '../protocol.js'
import type { ConnectionIndex } from './connection-index.js'

export type ControlMessage =
  | { op: 'disconnect', user: string, reason: string }
  | { op: 'disconnect', connectionId: string, reason: string }

export function encodeControl (message: ControlMessage): Buffer {
  return Buffer.from(JSON.stringify(message))
}

export function decodeControl (payload: Buffer): ControlMessage | null {
  let value: unknown
  try {
    value = JSON.parse(payload.toString('utf8'))
  } catch {
    return null
  }
  const { op, user, connectionId, reason } = (value ?? {}) as Record<string, unknown>
  if (op !== 'disconnect' || typeof reason !== 'string') return null
  if (typeof user === 'string') return { op, user, reason }
  if (typeof connectionId === 'string') return { op, connectionId, reason }
  return null
}

/** Closes this instance's sockets that `message` names; returns how many. */
export function applyControl (message: ControlMessage, index: ConnectionIndex): number {
  const targets = 'user' in message ? index.byUser(message.user) : [index.byId(message.connectionId)].filter(c => c !== undefined)
  for (const conn of targets) conn.close(CloseCode.DISCONNECTED, message.reason)
  return targets.length
}
