/**
 * A page of a room's history as the `history` frame and `GET /rooms/{room}/history` give it. The
 * stored frames are joined into the answer as they are: nothing is parsed or serialised again.
 */
import type { HistoryStore } from './history-store.js'
import { ErrorCode } from '../protocol.js'
import { HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX } from '../schemas/frames.js'

export type HistoryPage =
  | {
    ok: true
    epoch: string
    offset: number
    /** `head` (a JSON object of the other fields) with `"messages":[...]` added. */
    body: (head: string) => Buffer
  }
  | { ok: false, code: typeof ErrorCode.HISTORY_DISABLED | typeof ErrorCode.UNAVAILABLE, message: string }

export const HISTORY_OFF = 'history is off (HISTORY_SIZE=0)'
const DISABLED = { ok: false, code: ErrorCode.HISTORY_DISABLED, message: HISTORY_OFF } as const
const UNAVAILABLE = { ok: false, code: ErrorCode.UNAVAILABLE, message: 'Redis is unreachable: the history cannot be read now' } as const
/**
 * Bytes of messages one answer may hold (contract "Budgets"): 100 messages of 64 KB would be 6 MB
 * from a 100-byte request, held for a client that may never read it.
 */
export const HISTORY_ANSWER_MAX_BYTES = 1024 * 1024
const COMMA = Buffer.from(',')

/** The newest messages (the end of `messages`) whose frames fit in `maxBytes` together. */
export function newestThatFit (messages: Buffer[], maxBytes: number): Buffer[] {
  let bytes = 0
  let first = messages.length
  while (first > 0 && bytes + messages[first - 1].length <= maxBytes) bytes += messages[--first].length
  return first === 0 ? messages : messages.slice(first)
}
const TAIL = Buffer.from(']}')

/** A page from `store` (null: history is off). */
export async function readHistory (store: HistoryStore | null, room: string, limit: number | undefined, before: number | undefined): Promise<HistoryPage> {
  if (store === null) return DISABLED
  if (!store.available()) return UNAVAILABLE
  let page
  try {
    page = await store.page(room, Math.min(limit ?? HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX), before ?? null)
  } catch {
    return UNAVAILABLE
  }
  const { epoch, offset } = page.position
  // `before` set to the oldest offset returned pages further back, past what was cut here.
  const messages = newestThatFit(page.messages, HISTORY_ANSWER_MAX_BYTES)
  return {
    ok: true,
    epoch,
    offset,
    body: (head) => {
      const parts: Buffer[] = [Buffer.from(`${head.slice(0, -1)},"messages":[`)]
      messages.forEach((frame, i) => {
        if (i > 0) parts.push(COMMA)
        parts.push(frame)
      })
      parts.push(TAIL)
      return Buffer.concat(parts)
    }
  }
}
