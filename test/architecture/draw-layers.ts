/**
 * `npm run layers`: draws the import graph of src/ between its parts as a Mermaid flowchart, one
 * box per layer, top to bottom; an import that points up is drawn red. The drawing in
 * docs/architecture.md is this command's output.
 */
import { LAYERS, partEdges, violation } from './import-graph.js'

const id = (part: string): string => part.replace(/[^A-Za-z0-9]/g, '_')
const lines = ['flowchart TB']
LAYERS.forEach((layer, i) => {
  lines.push(`  subgraph L${i}["${layer.name}"]`)
  for (const part of layer.parts) lines.push(`    ${id(part)}["${part}"]`)
  lines.push('  end')
})
lines.push('  client["client (typed client)"]')
const up: number[] = []
let n = 0
for (const [key, count] of [...partEdges()].sort()) {
  const [from, to] = key.split(' -> ')
  lines.push(`  ${id(from)} -->|${count}| ${id(to)}`)
  if (violation(from, to) !== undefined) up.push(n)
  n++
}
if (up.length > 0) lines.push(`  linkStyle ${up.join(',')} stroke:red,stroke-width:2px`)
console.log(lines.join('\n'))
console.error(`layers: ${n} edges between parts, ${up.length} pointing up`)
