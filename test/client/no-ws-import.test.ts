/**
 * The client must load in a browser: no static import of `ws` (or of anything outside the client
 * directory, which would drag server code along), in the source and in the compiled output that
 * the demo page serves.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const SRC = fileURLToPath(new URL('../../src/client/', import.meta.url))
const DIST = fileURLToPath(new URL('../../dist/client/', import.meta.url))
// `import x from 'y'`, `export { x } from 'y'`, `import 'y'`; not `import type`, not import().
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm

function staticImports (file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)].map(m => m[1])
}

t.test('the source imports only sibling modules, and types', async t => {
  const files = readdirSync(SRC).filter(f => f.endsWith('.ts'))
  t.ok(files.length >= 5, 'client sources found')
  for (const file of files) {
    for (const spec of staticImports(SRC + file)) {
      t.match(spec, /^\.\/[\w-]+\.js$/, `${file} imports ${spec}`)
    }
  }
  t.notMatch(readFileSync(SRC + 'socket.ts', 'utf8'), /from\s+['"]ws['"]/)
})

t.test('the compiled client has no static import of ws nor of server code', async t => {
  t.ok(existsSync(DIST + 'index.js'), 'dist/client/index.js exists (run `npm run build` first)')
  const files = existsSync(DIST) ? readdirSync(DIST).filter(f => f.endsWith('.js')) : []
  let imports = 0
  for (const file of files) {
    const text = readFileSync(DIST + file, 'utf8')
    t.notMatch(text, /from\s*['"]ws['"]|require\(\s*['"]ws['"]\s*\)/, `${file}: no static ws`)
    for (const spec of staticImports(DIST + file)) {
      imports++
      t.match(spec, /^\.\/[\w-]+\.js$/, `${file} imports ${spec}`)
    }
  }
  t.ok(imports > 0, 'the check saw the imports')
})
