/**
 * Redis's own count of the memory it holds (`INFO memory`: used_memory, bytes). Read before and
 * after the idle sockets open, it gives what each socket costs Redis: chat-api's presence leases,
 * the room channels every target subscribes. A read-only command, safe on a shared Redis.
 */
import { connect } from 'node:net'

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
