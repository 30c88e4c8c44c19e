/**
 * A connection as the hub sees it, recording what it is sent: the offsets (`got`) and the
 * (epoch, offset) pairs (`pairs`) of the stored messages, and the code it was closed with.
 */
import type { Connection } from '../../src/hub/connection.js'

export type FakeConnection = Connection & { got: number[], pairs: string[], closedWith: number | null }

export function fakeConnection (): FakeConnection {
  const conn = {
    rooms: new Set<string>(),
    got: [] as number[],
    pairs: [] as string[],
    closedWith: null as number | null,
    send (f: Buffer) {
      const { offset, epoch } = JSON.parse(f.toString())
      conn.got.push(offset)
      conn.pairs.push(`${String(epoch)}/${String(offset)}`)
    },
    sendFramed (out: { payload: Buffer }) { conn.send(out.payload) },
    sendJson () {},
    close (code: number) { conn.closedWith = code },
    // Takes everything at once: a replay is never paced here.
    open: true,
    buffered: 0,
    maxBuffered: 1024 * 1024
  }
  return conn as unknown as FakeConnection
}
