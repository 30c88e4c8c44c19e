/** The client tests' own ChatClient: closed at teardown; and a wait for its next event. */
import { ChatClient, type ChatClientEvents, type ChatClientOptions } from '../../../src/client/index.js'

export interface Teardown { teardown: (fn: () => unknown) => void }

export function client (t: Teardown, opts: ChatClientOptions): ChatClient {
  const chat = new ChatClient(opts)
  t.teardown(() => chat.close())
  return chat
}

/** Waits for the next event of that name. */
export function next<K extends keyof ChatClientEvents> (chat: ChatClient, event: K): Promise<ChatClientEvents[K]> {
  return new Promise(resolve => chat.once(event, resolve))
}
