/**
 * `/docs/asyncapi`: the AsyncAPI document as a page people read, rendered in the browser by the
 * AsyncAPI project's own React component (@asyncapi/react-component, its standalone bundle, which
 * carries React). The bundle and its style sheet are served from the installed package, never a
 * CDN, so the page works on a network that reaches nothing but this service.
 * See @asyncapi/react-component's docs on its standalone bundle (in node_modules).
 */
import { createReadStream } from 'node:fs'
import { createRequire } from 'node:module'
import type { FastifyInstance } from 'fastify'
import { securityHeaders } from '../plugins/security-headers.js'

const require = createRequire(import.meta.url)

/** The files of @asyncapi/react-component the page loads, by the name it asks for. */
export const ASYNCAPI_ASSETS = {
  'standalone.js': { file: 'browser/standalone/index.js', type: 'text/javascript; charset=utf-8' },
  'default.min.css': { file: 'styles/default.min.css', type: 'text/css; charset=utf-8' }
} as const

// Relative URLs: the page is /docs/asyncapi, so `asyncapi/...` and `asyncapi.json` stay under the
// prefix, whatever it is.
const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>chat-api WebSocket: AsyncAPI</title>
  <link rel="stylesheet" href="asyncapi/default.min.css">
</head>
<body>
  <div id="asyncapi"></div>
  <script src="asyncapi/standalone.js"></script>
  <script src="asyncapi/render.js"></script>
</body>
</html>
`

/** Renders the document into the page: a file of its own, since the page's CSP runs no inline script. */
const RENDER = `AsyncApiStandalone.render({
  schema: { url: 'asyncapi.json', options: { method: 'GET' } },
  config: { show: { sidebar: true, errors: true } }
}, document.getElementById('asyncapi'))
`

/** Registers `GET /docs/asyncapi` and its assets in `fastify` (under its prefix). */
export function registerAsyncApiPage (fastify: FastifyInstance): void {
  const root = require.resolve('@asyncapi/react-component/package.json').replace(/package\.json$/, '')

  // A page for people, not an API endpoint: hidden from OpenAPI, as Swagger UI's /docs is.
  fastify.get('/docs/asyncapi', {
    schema: { hide: true },
    // The component validates the document with Ajv, which compiles its checks with `new Function`:
    // this page, which shows nothing but the service's own document, is the one that allows eval.
    helmet: securityHeaders({ scriptSrc: ["'unsafe-eval'"] })
  }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE))

  fastify.get('/docs/asyncapi/render.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(RENDER))
  for (const [name, { file, type }] of Object.entries(ASYNCAPI_ASSETS)) {
    fastify.get(`/docs/asyncapi/${name}`, { schema: { hide: true } }, async (_request, reply) =>
      reply.type(type).header('cache-control', 'public, max-age=3600').send(createReadStream(root + file)))
  }
}
