/**
 * Clients for the compression tests: a `ws` client that offers permessage-deflate or not, with a
 * tap on its wire (frames, RSV1, bytes) and the extensions the server's 101 answered.
 */
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import WebSocket from 'ws'
import { Client } from '../helper.js'
import { tapWire, type WireTap } from './wire-tap.js'

export interface TappedClient {
  client: Client
  wire: WireTap
  /** The 101's Sec-WebSocket-Extensions header, or undefined when none was negotiated. */
  extensions: string | undefined
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** Opens a socket (offering permessage-deflate when `deflate`) and waits for its `welcome`. */
export async function tappedClient (t: Teardown, url: string, deflate: boolean): Promise<TappedClient> {
  // ws's client offers `permessage-deflate; client_max_window_bits` by default, as browsers do.
  const ws = new WebSocket(url, { perMessageDeflate: deflate })
  t.teardown(() => { ws.terminate() })
  const client = new Client(ws)
  const wire = tapWire(ws)
  let extensions: string | undefined
  ws.once('upgrade', (res: IncomingMessage) => { extensions = res.headers['sec-websocket-extensions'] as string | undefined })
  await once(ws, 'open')
  await client.next('welcome')
  return { client, wire, extensions }
}

const WORDS = ('hey the release is out please review the pull request before lunch meeting moved to ' +
  'three thanks ok sure coffee deploy rollback staging prod on call incident resolved').split(' ')

/** Chat-like `data` whose serialised frame is about `bytes` long (deterministic for a seed). */
export function chatData (bytes: number, seed = 1): { text: string, mentions: string[], tag: string } {
  let state = seed
  let text = ''
  while (text.length < bytes) {
    state = (state * 1103515245 + 12345) % 2147483648
    text += WORDS[state % WORDS.length] + ' '
  }
  return { text, mentions: ['alice', 'bob'], tag: `m${seed}` }
}
