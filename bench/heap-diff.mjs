#!/usr/bin/env node
/**
 * What one heap snapshot holds beyond another, by kind and constructor: the count and self size of
 * each, largest first, and per unit (`--per N`, e.g. the number of sockets the second one added).
 * Self sizes only: what an object holds through references is counted at those objects.
 *
 *   node bench/heap-diff.mjs before.heapsnapshot after.heapsnapshot [--per 2000] [--top 30]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { per: { type: 'string', default: '1' }, top: { type: 'string', default: '30' } }
})
if (positionals.length !== 2) throw new Error('usage: heap-diff.mjs before.heapsnapshot after.heapsnapshot [--per N] [--top N]')

const VALUE_KINDS = new Set(['string', 'concatenated string', 'sliced string', 'number'])

/** `kind name` -> { count, bytes } of one snapshot. */
function tally (file) {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, 'utf8'))
  const fields = snapshot.meta.node_fields
  const kinds = snapshot.meta.node_types[0]
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map(f => fields.indexOf(f))
  const byKey = new Map()
  for (let i = 0; i < nodes.length; i += fields.length) {
    const kind = kinds[nodes[i + typeAt]]
    // Strings and numbers are told apart by kind only: each one's value is its name.
    const name = VALUE_KINDS.has(kind) ? '' : strings[nodes[i + nameAt]].slice(0, 60)
    const key = `${kind} ${name}`
    const entry = byKey.get(key) ?? { count: 0, bytes: 0 }
    entry.count++
    entry.bytes += nodes[i + sizeAt]
    byKey.set(key, entry)
  }
  return byKey
}

const before = tally(positionals[0])
const after = tally(positionals[1])
const per = Number(values.per)
const rows = []
for (const [key, a] of after) {
  const b = before.get(key) ?? { count: 0, bytes: 0 }
  if (a.bytes !== b.bytes) rows.push({ key, count: a.count - b.count, bytes: a.bytes - b.bytes })
}
rows.sort((x, y) => y.bytes - x.bytes)
const total = rows.reduce((sum, row) => sum + row.bytes, 0)
console.log(`total ${total} bytes; ${(total / per).toFixed(1)} per unit (${per})`)
for (const row of rows.slice(0, Number(values.top))) {
  console.log(`${(row.bytes / per).toFixed(1).padStart(9)} B/unit ${(row.count / per).toFixed(2).padStart(7)} objs/unit  ${row.key}`)
}
