/**
 * Loaded into every server under test with `--import` (and `--expose-gc`): answers the harness's
 * "gc" request over IPC with the heap used after a full collection, so memory is read after one, and exits when the harness
 * goes away, so a crashed run leaves no server behind. Nothing here touches the hot path.
 */
if (process.send !== undefined) {
  process.on('message', (msg) => {
    if (msg !== 'gc') return
    globalThis.gc?.()
    globalThis.gc?.()
    process.send({ gcDone: true, heapUsed: process.memoryUsage().heapUsed })
  })
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'))
  // The IPC channel must not keep a server alive that has been asked to stop.
  process.channel?.unref()
}
