/**
 * Both documents, exactly as served, through the official parsers: @readme/openapi-parser for
 * OpenAPI 3.1 (@apidevtools/swagger-parser's successor line; its own v13 needs Node 22) and
 * @asyncapi/parser (the validator behind the AsyncAPI CLI and Studio). A schema change that makes
 * either document invalid fails here. Each parser is also shown a broken copy, so a parser that
 * accepted anything could not pass this test.
 */
import t, { type Test } from 'tap'
import { compileErrors, validate } from '@readme/openapi-parser'
import { DiagnosticSeverity, Parser } from '@asyncapi/parser'
import { nameOf } from '../../src/docs/asyncapi.js'
import { CLIENT_FRAME_SCHEMAS, SERVER_FRAME_SCHEMAS } from '../../src/schemas/frames.js'
import { build, PREFIX } from '../helper.js'

const CONFIGS = { 'auth off': {}, 'auth on': { AUTH_ENABLED: true, JWT_SECRET: 'parsers-test-secret-of-32-bytes!!' } }

async function served (t: Test, config: object, path: string): Promise<any> {
  const app = await build(t, config)
  const res = await app.inject(`${PREFIX}${path}`)
  t.equal(res.statusCode, 200)
  return res.json()
}

/** Errors and warnings of the AsyncAPI parser (infos and hints, such as "3.1.0 exists", pass). */
async function asyncApiProblems (doc: unknown): Promise<string[]> {
  const diagnostics = await new Parser().validate(JSON.stringify(doc))
  return diagnostics
    .filter(d => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning)
    .map(d => `${d.code}: ${d.message} at ${d.path.join('.')}`)
}

for (const [label, config] of Object.entries(CONFIGS)) {
  t.test(`OpenAPI (${label}): @readme/openapi-parser finds no error`, async t => {
    const doc = await served(t, config, '/docs/json')
    t.match(doc.openapi, /^3\.1\./)
    const result = await validate(structuredClone(doc))
    t.ok(result.valid, result.valid ? 'valid' : compileErrors(result))
    t.same(result.warnings, [], 'and no warning')
  })

  t.test(`AsyncAPI (${label}): @asyncapi/parser finds no error or warning, and sees every frame`, async t => {
    const doc = await served(t, config, '/docs/asyncapi.json')
    t.same(await asyncApiProblems(doc), [])
    const { document } = await new Parser().parse(JSON.stringify(doc))
    if (document === undefined) return t.fail('the parser returned no document')
    t.same(document.channels().all().map(c => c.address()).sort(), ['/ws', '/ws/{room}'])
    t.equal(document.operations().length, 4, 'send and receive on each channel')
    const names = new Set(document.components().messages().all().map(m => m.name()))
    t.same([...names].sort(), [...CLIENT_FRAME_SCHEMAS, ...SERVER_FRAME_SCHEMAS].map(nameOf).sort())
  })
}

t.test('the parsers do reject a broken document', async t => {
  const openapi = await served(t, {}, '/docs/json')
  const firstPath = Object.keys(openapi.paths)[0]
  openapi.paths[firstPath].get.responses = { 200: { $ref: '#/components/responses/Nowhere' } }
  t.notOk((await validate(openapi)).valid, 'OpenAPI: a dangling $ref')

  const asyncapi = await served(t, {}, '/docs/asyncapi.json')
  delete asyncapi.components.schemas.JoinFrame
  t.not((await asyncApiProblems(asyncapi)).length, 0, 'AsyncAPI: a message whose payload schema is gone')
})
