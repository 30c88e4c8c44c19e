/** Reads every room's history as Redis holds it at the end of a run (meta hash and stream). */
import { Redis } from 'ioredis'
import { redisLayout } from '../../src/redis/layout.js'
import type { StoredHistory } from './history-log.js'

export async function readHistories (redisUrl: string, prefix: string, rooms: string[]): Promise<StoredHistory[]> {
  const layout = redisLayout(prefix)
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 10_000 })
  redis.on('error', () => {})
  try {
    return await Promise.all(rooms.map(async (room): Promise<StoredHistory> => {
      const meta = await redis.hgetall(layout.meta(room))
      const stream = await redis.xrange(layout.log(room), '-', '+')
      const entries = stream.map(([id, fields]) => {
        const frame = JSON.parse(fields[1]) as { messageId: string, ts: number, data: unknown }
        return { offset: Number(id.split('-')[0]), messageId: frame.messageId, ts: frame.ts, data: frame.data }
      })
      return { room, epoch: meta.epoch ?? null, top: Number(meta.top ?? 0), entries }
    }))
  } finally {
    redis.disconnect()
  }
}
