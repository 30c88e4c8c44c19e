/**
 * docs/configuration.md is the one page that lists every environment variable: this test fails
 * when a variable of the config schema is missing from its table, when the table names one the
 * schema does not know, or when a default it states differs from the schema's.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { ConfigSchema } from '../../src/plugins/config.js'

const PAGE = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')

/** [names, defaults] of each table row: `A` / `B` in the first column, `x` / `y` in the second. */
function rows (): Array<[string[], string[]]> {
  return PAGE.split('\n')
    .filter(line => /^\| `[A-Z]/.test(line))
    .map(line => {
      const cells = line.split(' | ')
      const names = [...cells[0].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map(m => m[1])
      const defaults = cells[1].split(' / ').map(d => d.trim().replace(/^`|`$/g, ''))
      return [names, defaults]
    })
}

const schema = ConfigSchema.properties as Record<string, { default?: unknown }>

t.test('every variable of the config schema is in the table, and only those', async t => {
  const documented = rows().flatMap(([names]) => names)
  t.same([...documented].sort(), Object.keys(schema).sort())
  t.equal(new Set(documented).size, documented.length, 'each once')
})

t.test('each stated default is the schema\'s', async t => {
  let checked = 0
  for (const [names, defaults] of rows()) {
    if (names.length !== defaults.length) continue // one default for a pair, or a prose default
    names.forEach((name, i) => {
      const stated = defaults[i]
      const actual = schema[name]?.default
      if (stated === 'unset') {
        t.equal(actual, undefined, `${name} has no default`)
      } else if (actual !== undefined) {
        t.equal(stated, String(actual), `${name} defaults to ${String(actual)}`)
      }
      checked++
    })
  }
  t.ok(checked >= 20, `checked ${checked} defaults`)
})
