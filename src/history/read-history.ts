/**
 * A page of a room's history as the `history` frame and `GET /rooms/{room}/history` give it. The
 * stored frames are joined into the answer as they are: nothing is parsed or serialised again.
 */
import type { Hub } from '../hub/hub.js'
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
const COMMA = Buffer.from(',')
const TAIL = Buffer.from(']}')

export async function readHistory (hub: Hub, room: string, limit: number | undefined, before: number | undefined): Promise<HistoryPage> {
  const store = hub.historyStore
  if (store === null) return DISABLED
  if (!store.available()) return UNAVAILABLE
  let page
  try {
    page = await store.page(room, Math.min(limit ?? HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX), before ?? null)
  } catch {
    return UNAVAILABLE
  }
  const { epoch, offset } = page.position
  return {
    ok: true,
    epoch,
    offset,
    body: (head) => {
      const parts: Buffer[] = [Buffer.from(`${head.slice(0, -1)},"messages":[`)]
      page.messages.forEach((frame, i) => {
        if (i > 0) parts.push(COMMA)
        parts.push(frame)
      })
      parts.push(TAIL)
      return Buffer.concat(parts)
    }
  }
}
