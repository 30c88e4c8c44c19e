/**
 * Redis's own count of the memory it holds (`INFO memory`: used_memory, bytes). Read before and
 * after the idle sockets open, it gives what each socket costs Redis: chat-api's presence leases,
 * the room channels every target subscribes. A read-only command, safe on a shared Redis.
 */
import { connect } from 'node:net'
import { Redis } from 'ioredis'

export function redisUsedMemory (url) {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) })
    let reply = ''
    socket.setTimeout(5000, () => { socket.destroy(); reject(new Error('INFO memory timed out')) })
    socket.once('error', reject)
    socket.once('connect', () => socket.write('INFO memory\r\n'))
    socket.on('data', (data) => {
      reply += data.toString('latin1')
      // A bulk reply: `$<length>\r\n<body>\r\n`; used_memory is its first line but wait for all of it.
      const head = /^\$(\d+)\r\n/.exec(reply)
      if (head === null || reply.length < head[0].length + Number(head[1])) return
      socket.destroy()
      const used = /^used_memory:(\d+)/m.exec(reply)
      if (used === null) reject(new Error(`INFO memory without used_memory: ${reply.slice(0, 200)}`))
      else resolve(Number(used[1]))
    })
  })
}

/**
 * Deletes the keys a target left under `prefix` (its presence leases and hashes live two lease
 * lengths): otherwise they expire while the next target connects, and that target's Redis memory
 * per socket comes out too small, even below zero. Only keys of this prefix: safe on a shared Redis.
 */
export async function removeKeys (url, prefix) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
      if (keys.length > 0) await redis.unlink(...keys)
    }
  } finally {
    redis.disconnect()
  }
}
