/** A logger option that keeps every line, at the most verbose level, for tests that read the logs. */
import { Writable } from 'node:stream'

export function captureLogs (): { lines: string[], logger: { level: string, stream: Writable } } {
  const lines: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(line => line !== ''))
      done()
    }
  })
  return { lines, logger: { level: 'trace', stream } }
}
