/** Shared by the read-state tests: a user's socket on an app, and sending stored messages. */
import type { Client } from '../helper.js'
import { connect } from '../helper.js'
import { bearer, sign } from '../helpers/auth-tokens.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** A socket of `user` (a token with that `sub`), joined to `rooms` by the URL's `?room=` one at a time. */
export async function userSocket (t: Teardown, url: string, user: string, rooms: string[] = []): Promise<Client> {
  const client = await connect(t, `${url}/ws`, bearer(sign({ sub: user })))
  for (const room of rooms) {
    const joined = await client.request({ type: 'join', room })
    if (joined.type !== 'joined') throw new Error(`join ${room}: ${JSON.stringify(joined)}`)
  }
  return client
}

/** Sends `count` stored messages to `room`, waiting for each ack; returns the last ack. */
export async function sendMany (client: Client, room: string, count: number): Promise<any> {
  let ack: any
  for (let i = 0; i < count; i++) ack = await client.request({ type: 'message', room, data: i })
  return ack
}

export function randomName (stem: string): string {
  return `${stem}-${Math.random().toString(36).slice(2, 10)}`
}
