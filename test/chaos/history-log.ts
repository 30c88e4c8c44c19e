/**
 * What a chaos run records, Jepsen style: every frame a member received (as it came off the
 * wire), the events its client raised, every send and how it settled, and what Redis holds at the
 * end. The checker (checker.ts) judges this record after the run, with no live state.
 */

export interface Position { offset: number, epoch: string }

export type Entry =
  /** A new socket was welcomed. */
  | { t: 'welcome', at: number, connectionId: string }
  /** A join frame the member wrote (`since` when it asked to resume). */
  | { t: 'join', at: number, room: string, since?: Position }
  | { t: 'joined', at: number, room: string, offset?: number, epoch?: string, recovered?: boolean }
  | { t: 'message', at: number, room: string, messageId: string, offset?: number, epoch?: string, data: unknown, ts?: number }
  /** The typed client's `gap` event (history lost or not replayed: it says so to the application). */
  | { t: 'gap', at: number, room: string, offset: number, epoch: string }
  | { t: 'close', at: number, code: number }

export interface Send {
  /** `c:n`, also in the message's data: finds it in the stored history whether it had a key or not. */
  token: string
  key?: string
  sentAt: number
  settledAt?: number
  /** `lost`: its socket closed before any reply (a raw member does not resend). */
  outcome: 'pending' | 'ack' | 'error' | 'lost'
  ack?: { messageId: string, offset?: number, epoch?: string }
  error?: string
}

export interface MemberLog {
  name: string
  kind: 'typed' | 'raw'
  room: string
  /** The index of the instance it connects to. */
  instance: number
  entries: Entry[]
  sends: Send[]
}

/** A room's history as Redis holds it at the end of the run. */
export interface StoredHistory {
  room: string
  /** null: nothing stored (no meta hash). */
  epoch: string | null
  top: number
  entries: Array<{ offset: number, messageId: string, ts: number, data: unknown }>
}

/** The data every chaos message carries. */
export interface ChaosData { c: string, n: number, k?: string, probe?: string }

export function tokenOf (data: unknown): string | null {
  if (typeof data !== 'object' || data === null) return null
  const { c, n } = data as Partial<ChaosData>
  return typeof c === 'string' && typeof n === 'number' ? `${c}:${n}` : null
}
