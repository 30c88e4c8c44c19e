import { fileURLToPath } from 'node:url'
import t from 'tap'

t.test('`chat-api/client` resolves to the compiled client, with its types beside it', async t => {
  const resolved = fileURLToPath(import.meta.resolve('chat-api/client'))
  t.match(resolved, /dist\/client\/index\.js$/)
  const mod = await import(resolved) as typeof import('../../src/client/index.js')
  t.type(mod.ChatClient, 'function')
  t.type(mod.backoffDelay, 'function')
  const pkg = (await import('../../package.json', { with: { type: 'json' } })).default
  t.same(pkg.exports['./client'], { types: './dist/client/index.d.ts', default: './dist/client/index.js' })
})
