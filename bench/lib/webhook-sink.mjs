/**
 * A webhook receiver that answers 204 at once, in a process of its own (it competes for the cores
 * as a receiver on the same host would, and its CPU is not the sender's). `port` is where it
 * listens; `cpuUs()` asks it for its CPU so far (user + system, µs); it exits with its parent.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'

const SINK = `
const server = require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { res.statusCode = 204; res.end() }) })
server.listen(0, '127.0.0.1', () => process.send(server.address().port))
process.on('message', () => { const { user, system } = process.cpuUsage(); process.send(user + system) })
process.on('disconnect', () => process.exit(0))`

export async function startWebhookSink () {
  const child = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const [port] = await once(child, 'message')
  return {
    port,
    async cpuUs () {
      child.send('cpu')
      return (await once(child, 'message'))[0]
    },
    kill: () => child.kill()
  }
}
