/**
 * The import graph of src/, read with TypeScript's own pre-processor (every `import`, `export …
 * from` and dynamic `import()`; type-only imports included, since they couple the files just as
 * much), and the layer each part of src/ belongs to. Used by layers.test.ts, which fails on an
 * import that points up, and by draw-layers.ts, which draws the picture in docs/architecture.md.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

export const SRC = fileURLToPath(new URL('../../src/', import.meta.url))

/**
 * Top to bottom: a part may import its own layer's parts (without a cycle between them) and any
 * part below it, never one above. The typed client is its own stack: it may use the shared
 * schemas and codes, and nothing of the server.
 */
export const LAYERS: Array<{ name: string, parts: string[] }> = [
  { name: 'process', parts: ['server.ts'] },
  { name: 'application', parts: ['app.ts'] },
  { name: 'plugins and routes', parts: ['plugins', 'routes'] },
  { name: 'sockets', parts: ['ws'] },
  { name: 'features', parts: ['auth', 'docs', 'history', 'presence', 'metrics', 'webhooks', 'hooks', 'read-state'] },
  { name: 'hub', parts: ['hub'] },
  { name: 'redis', parts: ['redis'] },
  { name: 'contract', parts: ['protocol.ts', 'schemas', 'types', 'signing', 'redact.ts', 'serialise-data.ts', 'error-handler.ts', 'security-policy.ts'] }
]
export const CLIENT_PART = 'client'
export const CLIENT_MAY_IMPORT = new Set(['schemas', 'protocol.ts'])

/** The part of a file: its folder under src/, or the file's own name for files at the top. */
export function partOf (file: string): string {
  const path = relative(SRC, file)
  return path.includes('/') ? path.slice(0, path.indexOf('/')) : path
}

export function layerOf (part: string): number {
  return LAYERS.findIndex(layer => layer.parts.includes(part))
}

function sourceFiles (dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : []
  })
}

export interface ImportEdge { from: string, to: string }

/** Every import of one src/ file by another (paths relative to src/). */
export function importEdges (): ImportEdge[] {
  const edges: ImportEdge[] = []
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue
      const target = resolve(dirname(file), fileName).replace(/\.js$/, '.ts')
      edges.push({ from: relative(SRC, file), to: relative(SRC, target) })
    }
  }
  return edges
}

/** Import edges between parts, with how many file imports each stands for. */
export function partEdges (edges = importEdges()): Map<string, number> {
  const counts = new Map<string, number>()
  for (const { from, to } of edges) {
    const key = `${partOf(join(SRC, from))} -> ${partOf(join(SRC, to))}`
    const [a, b] = key.split(' -> ')
    if (a !== b) counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return counts
}

/** Why an edge between two parts breaks the layering, or undefined when it is allowed. */
export function violation (from: string, to: string): string | undefined {
  if (from === CLIENT_PART) return CLIENT_MAY_IMPORT.has(to) ? undefined : 'the client imports server code'
  if (to === CLIENT_PART) return 'server code imports the client'
  const a = layerOf(from)
  const b = layerOf(to)
  if (a === -1) return `${from} is in no layer`
  if (b === -1) return `${to} is in no layer`
  return a > b ? `${LAYERS[a].name} imports ${LAYERS[b].name}, a layer above` : undefined
}

/** Cycles among the given edges (each as the list of nodes around it), found by depth-first search. */
export function cycles (edges: Array<[string, string]>): string[][] {
  const next = new Map<string, string[]>()
  for (const [a, b] of edges) next.set(a, [...(next.get(a) ?? []), b])
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (node: string): void => {
    state.set(node, 'open')
    stack.push(node)
    for (const to of next.get(node) ?? []) {
      if (state.get(to) === 'open') found.push([...stack.slice(stack.indexOf(to)), to])
      else if (state.get(to) === undefined) visit(to)
    }
    stack.pop()
    state.set(node, 'done')
  }
  for (const node of next.keys()) if (state.get(node) === undefined) visit(node)
  return found
}
