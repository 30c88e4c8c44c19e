#!/usr/bin/env node
// The second half of `npm run build` (after tsc): copies into dist/ the files the compiled code
// reads at run time and tsc does not emit.
// - src/redis/lua: the Lua scripts the Redis layer loads.
// - dist/docs/asyncapi: the AsyncAPI page's browser bundle and style sheet, from the dev dependency
//   @asyncapi/react-component (its standalone bundle carries React and the parser). Shipped as
//   files, so a production install needs none of that component's dependency tree (React, jsdom,
//   the parser and its install scripts) to serve one documentation page.
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { constants, gzipSync } from 'node:zlib'

const require = createRequire(import.meta.url)

cpSync('src/redis/lua', 'dist/redis/lua', { recursive: true })

const component = dirname(require.resolve('@asyncapi/react-component/package.json'))
const { version } = require('@asyncapi/react-component/package.json')
const asyncapi = join('dist', 'docs', 'asyncapi')
mkdirSync(asyncapi, { recursive: true })
// Named as the page asks for them (src/docs/asyncapi-page.ts); the licences travel with the code.
const files = {
  'browser/standalone/index.js.LICENSE.txt': 'standalone.js.LICENSE.txt',
  'styles/default.min.css': 'default.min.css',
  LICENSE: 'LICENSE'
}
for (const [from, to] of Object.entries(files)) copyFileSync(join(component, from), join(asyncapi, to))
// The 3 MB bundle gzipped (0.6 MB): smaller in the package, and sent as it is to every browser.
const bundle = readFileSync(join(component, 'browser/standalone/index.js'))
writeFileSync(join(asyncapi, 'standalone.js.gz'), gzipSync(bundle, { level: constants.Z_BEST_COMPRESSION }))
console.log(`copy-assets: lua scripts, @asyncapi/react-component ${version} browser bundle`)
