/**
 * docs/protocol.md against the code, both ways: every error code and close code of
 * src/protocol.ts and every frame `type` of src/schemas/frames.ts is in the doc's tables, and
 * everything those tables list is known to the code. The tables read are "Frame types", "Error
 * codes", "Close codes" and "HTTP error codes"; the "Planned (not yet available)" section is not
 * read, since nothing in it is built.
 *
 * One exception, for the doc-to-code direction only: version-2 frames and HTTP codes that the doc
 * states (they are part of the contract being built) while their code is still on its way, listed
 * in NOT_YET_IN_CODE. The set must only shrink: the test fails as soon as one of them is in the
 * code, so whoever adds it there removes it here and the full check applies from then on.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { TSchema } from 'typebox'
import { CloseCode, ErrorCode } from '../../src/protocol.js'
import { CLIENT_FRAME_SCHEMAS, SERVER_FRAME_SCHEMAS } from '../../src/schemas/frames.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const DOC = readFileSync(join(ROOT, 'docs/protocol.md'), 'utf8')
const BUILT = DOC.split(/^## Planned \(not yet available\)$/m)[0]

/** Version-2 items the doc lists before their code lands (see above). */
const NOT_YET_IN_CODE = {
  'client → server': new Set<string>(),
  'server → client': new Set<string>(),
  http: new Set<string>()
}

/** The rows of the table under `heading` (a `##`/`###` line), first cell without backticks. */
function table (heading: string): string[][] {
  const at = BUILT.search(new RegExp(`^#{2,3} ${heading}$`, 'm'))
  if (at === -1) throw new Error(`docs/protocol.md has no "${heading}" section before "Planned"`)
  const section = BUILT.slice(at).split('\n').slice(1)
  const end = section.findIndex(line => /^#{1,3} /.test(line))
  return section.slice(0, end === -1 ? undefined : end)
    .filter(line => line.startsWith('| `'))
    .map(line => line.split('|').slice(1, -1).map(cell => cell.trim().replace(/^`(.*)`$/, '$1')))
}

function typeOf (schema: TSchema): string {
  return (schema as { properties: { type: { const: string } } }).properties.type.const
}

const CODE_FRAMES = {
  'client → server': CLIENT_FRAME_SCHEMAS.map(typeOf),
  'server → client': SERVER_FRAME_SCHEMAS.map(typeOf)
}

/** Every string literal of src/, where the HTTP error codes are spelled. */
function sourceStrings (): Set<string> {
  const strings = new Set<string>()
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/'([a-z_]+)'/g)) strings.add(m[1])
      }
    }
  }
  walk(join(ROOT, 'src'))
  return strings
}

t.test('every frame type of the schemas is in the "Frame types" table, with its direction', async t => {
  const rows = table('Frame types')
  for (const [direction, types] of Object.entries(CODE_FRAMES)) {
    for (const type of types) t.ok(rows.some(r => r[0] === type && r[1] === direction), `${type} (${direction})`)
  }
})

t.test('every frame type in the table is one the schemas have (or one still on its way)', async t => {
  for (const [type, direction] of table('Frame types')) {
    if (!(direction in CODE_FRAMES)) {
      t.fail(`${type}: "${direction}" is no direction`)
      continue
    }
    const known = CODE_FRAMES[direction as keyof typeof CODE_FRAMES]
    const pending = NOT_YET_IN_CODE[direction as keyof typeof CODE_FRAMES]
    if (pending.has(type)) {
      t.notOk(known.includes(type), `${type} (${direction}) not in the code yet; once it is, remove it from NOT_YET_IN_CODE`)
    } else {
      t.ok(known.includes(type), `${type} (${direction}) is in src/schemas/frames.ts`)
    }
  }
})

t.test('the "Error codes" table lists exactly the error codes of src/protocol.ts', async t => {
  const documented = table('Error codes').map(r => r[0])
  t.same([...documented].sort(), [...Object.values(ErrorCode)].sort())
  t.equal(new Set(documented).size, documented.length, 'each once')
})

t.test('the "Close codes" table lists exactly the close codes of src/protocol.ts', async t => {
  const documented = table('Close codes').map(r => Number(r[0]))
  t.same([...documented].sort(), [...Object.values(CloseCode)].sort())
  t.equal(new Set(documented).size, documented.length, 'each once')
})

t.test('every HTTP error code in the doc is spelled in src/ (or still on its way), and the ones src/ sends are in the doc', async t => {
  const strings = sourceStrings()
  const documented = table('HTTP error codes').map(r => r[0])
  for (const code of documented) {
    if (NOT_YET_IN_CODE.http.has(code)) {
      t.notOk(strings.has(code), `${code} not in src/ yet; once it is, remove it from NOT_YET_IN_CODE`)
    } else {
      t.ok(strings.has(code) || Object.values(ErrorCode).includes(code as ErrorCode), `${code} is in src/`)
    }
  }
  // The `error` of every HTTP body that src/ spells out as a literal.
  const sent = new Set<string>()
  for (const file of ['src/error-handler.ts', 'src/routes/ws.ts', 'src/routes/health.ts', 'src/protocol.ts', 'src/ws/refuse-stray-upgrades.ts']) {
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/error: (?:[^,}]*\? )?'([a-z_]+)'(?: : '([a-z_]+)')?/g)) {
      sent.add(m[1])
      if (m[2] !== undefined) sent.add(m[2])
    }
  }
  t.ok(sent.size >= 5, `found the codes: ${[...sent].join(', ')}`)
  for (const code of sent) t.ok(documented.includes(code), `${code} is in the "HTTP error codes" table`)
})

t.test('the doc is the project\'s own: no link or reference outside the repository', async t => {
  t.notMatch(DOC, /shared\//)
  t.notMatch(DOC, /\]\((?!#)[^)]*:\/\//, 'no absolute link')
})

t.test('the README links docs/protocol.md, and no link of the README or docs/ leaves the repository', async t => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  t.match(readme, '](docs/protocol.md)')
  const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter(f => f.endsWith('.md')).map(f => `docs/${f}`)]
  t.ok(pages.length >= 10, `pages: ${pages.join(', ')}`)
  for (const page of pages) {
    // Code blocks and inline code are not links (`a[i](x)` in an example is code).
    const text = readFileSync(join(ROOT, page), 'utf8').replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '')
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)|<(https?:\/\/[^>]+)>/g)].map(m => m[1] ?? m[2])
    for (const target of targets) {
      if (/^https?:\/\//.test(target)) {
        t.match(target, /^https?:\/\/localhost[:/]/, `${page}: ${target}: the service itself, on this machine`)
        continue
      }
      const [file, anchor] = target.split('#')
      const path = file === '' ? join(ROOT, page) : join(ROOT, dirname(page), file)
      t.ok(path.startsWith(ROOT) && existsSync(path), `${page}: ${target} is a file of the repository`)
      if (anchor !== undefined && path.endsWith('.md') && existsSync(path)) {
        t.ok(headingSlugs(readFileSync(path, 'utf8')).has(anchor), `${page}: #${anchor} is a heading of ${file || page}`)
      }
    }
  }
})

/** GitHub's anchors of a Markdown page: headings lower-cased, punctuation dropped, spaces to dashes. */
function headingSlugs (text: string): Set<string> {
  return new Set([...text.matchAll(/^#+ (.+)$/gm)].map(m => m[1].trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')))
}
