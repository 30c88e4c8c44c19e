/**
 * Small files that each do one thing: no source file of src/ (TypeScript, and the demo's browser
 * modules in src/public) is over MAX_LINES lines. Split one that grows past it along a seam.
 */
import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { SRC } from './import-graph.js'

const MAX_LINES = 250

function files (dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return files(path)
    return /\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') && !name.endsWith('.min.js') ? [path] : []
  })
}

t.test(`no source file is over ${MAX_LINES} lines`, async t => {
  const all = files(SRC)
  t.ok(all.length > 100, `${all.length} files read`)
  for (const file of all) {
    const lines = readFileSync(file, 'utf8').split('\n').length - 1
    t.ok(lines <= MAX_LINES, `${relative(SRC, file)}: ${lines} lines`)
  }
})
