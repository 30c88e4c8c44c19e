/**
 * Starts a redis-server of a test on `port`, keeping its files in `dir`, and resolves once it
 * accepts connections. No snapshots unless the test takes them (SAVE), no append-only file.
 * Its log line, not a polling loop, says when it is ready (untilLogged); an exit before that rejects with the log.
 */
import { spawn, type ChildProcess } from 'node:child_process'

export async function spawnRedisServer (port: number, dir: string, args: string[] = []): Promise<ChildProcess> {
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  await untilLogged(child, 'Ready to accept connections', 'redis-server')
  return child
}

/**
 * Resolves once `child` prints `line` on its stdout (then lets the rest of its output drain);
 * rejects with its log if it exits or cannot start before.
 */
export async function untilLogged (child: ChildProcess, line: string, name: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let log = ''
    const onData = (chunk: Buffer): void => {
      log += chunk.toString()
      if (log.includes(line)) {
        child.stdout?.off('data', onData)
        child.stdout?.resume()
        child.off('exit', onExit)
        resolve()
      }
    }
    const onExit = (code: number | null): void => reject(new Error(`${name} exited with ${code}: ${log}`))
    child.stdout?.on('data', onData)
    child.stderr?.resume()
    child.once('error', reject)
    child.once('exit', onExit)
  })
}
