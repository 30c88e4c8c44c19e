/**
 * Loaded into every server under test with `--import` (and `--expose-gc`). Over IPC it answers the
 * harness's "gc" request with the heap used after a full collection (memory is read after one),
 * and `{ profile: 'start' }` / `{ profile: 'stop', file }` with a CPU profile of just that stretch
 * (the inspector's profiler, so start-up and connecting are not in it), and `{ snapshot: file }`
 * with a heap snapshot written to `file` after a full collection. It exits when the harness
 * goes away, so a crashed run leaves no server behind. Nothing here touches the hot path.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { writeHeapSnapshot } from 'node:v8'

let inspector = null
const post = (method, params) => new Promise((resolve, reject) =>
  inspector.post(method, params, (err, result) => err ? reject(err) : resolve(result)))

async function profile (msg) {
  if (msg.profile === 'start') {
    inspector = new Session()
    inspector.connect()
    await post('Profiler.enable')
    await post('Profiler.start')
    return { profiling: true }
  }
  const { profile } = await post('Profiler.stop')
  inspector.disconnect()
  inspector = null
  writeFileSync(msg.file, JSON.stringify(profile))
  return { profiled: msg.file }
}

if (process.send !== undefined) {
  process.on('message', (msg) => {
    if (msg === 'gc') {
      globalThis.gc?.()
      globalThis.gc?.()
      process.send({ gcDone: true, heapUsed: process.memoryUsage().heapUsed })
    } else if (msg?.snapshot !== undefined) {
      globalThis.gc?.()
      try {
        process.send({ snapshot: writeHeapSnapshot(msg.snapshot) })
      } catch (err) {
        process.send({ error: String(err) })
      }
    } else if (msg?.profile !== undefined) {
      profile(msg).then(reply => process.send(reply), err => process.send({ error: String(err) }))
    }
  })
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'))
  // The IPC channel must not keep a server alive that has been asked to stop.
  process.channel?.unref()
}
