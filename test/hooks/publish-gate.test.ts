/**
 * The publish gate of one socket: decisions handed on in order per room whatever order the hook
 * answers in, and a clear refusal once MAX_PENDING_PUBLISHES (or their bytes) wait.
 */
import t from 'tap'
import { Hooks } from '../../src/hooks/hooks.js'
import { MAX_PENDING_PUBLISHES, MAX_PENDING_PUBLISH_BYTES, PublishGate } from '../../src/hooks/publish-gate.js'
import type { HookAnswer, PublishInput } from '../../src/hooks/types.js'

function gateWith (publish: (input: PublishInput) => Promise<HookAnswer>) {
  const hooks = new Hooks({ functions: { publish }, timeoutMs: 60_000, failure: 'closed', maxDataBytes: 65536, log: { warn () {} } })
  return new PublishGate(hooks, (err) => { throw err })
}

const input = (room: string, data: unknown): PublishInput => ({ room, user: null, connectionId: 'c', data, transient: false })

t.test('per room in order, even when the hook answers out of order; rooms do not wait for each other', async t => {
  const answers = new Map<unknown, () => void>()
  const gate = gateWith(({ data }) => new Promise(resolve => answers.set(data, () => resolve({ allow: true }))))
  const applied: string[] = []
  for (const [room, data] of [['a', 'a1'], ['a', 'a2'], ['b', 'b1']]) {
    t.ok(gate.submit(input(room, data), JSON.stringify(data), () => applied.push(data)))
  }
  await new Promise(resolve => setImmediate(resolve))
  answers.get('a2')?.()
  answers.get('b1')?.()
  await new Promise(resolve => setImmediate(resolve))
  t.same(applied, ['b1'], 'a2 waits for a1; b1 does not')
  answers.get('a1')?.()
  await new Promise(resolve => setImmediate(resolve))
  t.same(applied, ['b1', 'a1', 'a2'])
})

t.test('a socket cannot make more than the bound wait', async t => {
  const gate = gateWith(() => new Promise(() => {}))
  for (let i = 0; i < MAX_PENDING_PUBLISHES; i++) {
    if (!gate.submit(input('r', i), String(i), () => {})) return t.fail(`refused at ${i}`)
  }
  t.notOk(gate.submit(input('other', 'x'), '"x"', () => {}), 'the next one is refused, whatever its room')
  const big = gateWith(() => new Promise(() => {}))
  const data = 'x'.repeat(MAX_PENDING_PUBLISH_BYTES / 2)
  t.ok(big.submit(input('r', data), data, () => {}))
  t.ok(big.submit(input('r', data), data, () => {}))
  t.notOk(big.submit(input('r', 'y'), '"y"', () => {}), 'bytes are bounded too')
})
