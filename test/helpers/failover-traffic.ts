/**
 * Traffic that crosses a Redis failover: senders on several instances send numbered room
 * messages, each with an idempotency key, and resend the same one (same key) until it is acked,
 * as a client that hears `unavailable` would. What every member then received can be checked
 * against what was acked: every offset once, in order, no gap, each sender's messages in the order
 * sent.
 */
import type { Client } from '../helper.js'

export interface Traffic {
  /** Stops sending once each sender's message in flight is acked; resolves with the acks. */
  stop (): Promise<Array<{ s: number, i: number, offset: number, messageId: string }>>
  /** Acks so far. */
  readonly acked: number
}

export function startTraffic (senders: Client[], room: string, tag: string, pauseMs = 10): Traffic {
  const acks: Array<{ s: number, i: number, offset: number, messageId: string }> = []
  const state = { sending: true }
  const loops = senders.map(async (sender, s) => {
    for (let i = 0; state.sending; i++) {
      for (;;) {
        const reply = await sender.request({ type: 'message', room, data: { tag, s, i }, key: `${tag}-${s}-${i}` }).catch(() => null)
        if (reply?.type === 'ack') {
          acks.push({ s, i, offset: reply.offset, messageId: reply.messageId })
          break
        }
        await new Promise(resolve => setTimeout(resolve, 100)) // unavailable (or no answer): resend
      }
      await new Promise(resolve => setTimeout(resolve, pauseMs))
    }
  })
  return {
    async stop () {
      state.sending = false
      await Promise.all(loops)
      return acks
    },
    get acked () { return acks.length }
  }
}

/** The offsets of a room's messages a client received. */
export function offsetsOf (client: Client, room: string): number[] {
  return client.frames.filter(f => f.type === 'message' && f.room === room).map(f => f.offset)
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)
