/**
 * The layering of src/ (import-graph.ts, drawn in docs/architecture.md): no import from a lower
 * layer up, no cycle between parts of one layer, no cycle between files. KNOWN holds the
 * back-edges that were there when this check was written: one that disappears must leave the
 * list (so the list only shrinks), and any new one fails.
 */
import t from 'tap'
import { LAYERS, cycles, importEdges, partEdges, partOf, SRC, violation } from './import-graph.js'
import { join } from 'node:path'

const KNOWN = new Set<string>()
const KNOWN_FILE_CYCLES = new Set<string>()

const edges = importEdges()
const parts = partEdges(edges)

t.test('the graph is read: every layer\'s parts are seen importing or imported', async t => {
  t.ok(edges.length > 100, `${edges.length} file imports`)
  const seen = new Set([...parts.keys()].flatMap(key => key.split(' -> ')))
  for (const part of ['app.ts', 'plugins', 'routes', 'ws', 'hub', 'redis', 'history', 'presence', 'schemas', 'protocol.ts']) {
    t.ok(seen.has(part), `${part} has imports`)
  }
})

t.test('no import points from a lower layer up, beyond the known ones', async t => {
  const broken = [...parts.keys()].filter(key => violation(...(key.split(' -> ') as [string, string])) !== undefined)
  for (const key of broken) {
    t.ok(KNOWN.has(key), `${key}: ${violation(...(key.split(' -> ') as [string, string])) ?? ''}`)
  }
  for (const key of KNOWN) t.ok(broken.includes(key), `${key} is gone: remove it from KNOWN`)
})

t.test('every part of src/ is in a layer', async t => {
  const all = new Set(edges.flatMap(({ from, to }) => [partOf(join(SRC, from)), partOf(join(SRC, to))]))
  const placed = new Set([...LAYERS.flatMap(layer => layer.parts), 'client'])
  for (const part of all) t.ok(placed.has(part), `${part} is placed`)
})

t.test('no cycle between parts of one layer', async t => {
  const sameLayer = [...parts.keys()]
    .map(key => key.split(' -> ') as [string, string])
    .filter(([a, b]) => violation(a, b) === undefined)
  t.same(cycles(sameLayer), [])
})

t.test('no cycle between files, beyond the known ones', async t => {
  const found = cycles(edges.map(({ from, to }) => [from, to])).map(cycle => cycle.join(' -> '))
  for (const cycle of found) t.ok(KNOWN_FILE_CYCLES.has(cycle), `cycle: ${cycle}`)
  for (const cycle of KNOWN_FILE_CYCLES) t.ok(found.includes(cycle), `${cycle} is gone: remove it`)
})

t.test('features read the hub through small interfaces, never the Hub class', async t => {
  // What a feature needs of the hub is declared beside it (HubGauges, HistoryStore, PresencePort):
  // a feature that took the whole Hub could reach any of its workings.
  const features = new Set(LAYERS.find(layer => layer.name === 'features')?.parts)
  const onHub = edges.filter(({ from, to }) => to === 'hub/hub.ts' && features.has(partOf(join(SRC, from))))
  t.same(onHub.map(({ from }) => from), [])
})

t.test('the checks can fail: an edge up and a cycle are seen', async t => {
  t.match(violation('redis', 'hub'), /a layer above/)
  t.match(violation('client', 'hub'), /client/)
  t.equal(violation('ws', 'hub'), undefined)
  t.same(cycles([['a', 'b'], ['b', 'c'], ['c', 'a']]), [['a', 'b', 'c', 'a']])
})
