/**
 * `/docs/asyncapi`: the AsyncAPI document as a page people read, rendered in the browser by the
 * AsyncAPI project's own React component (@asyncapi/react-component, its standalone bundle, which
 * carries React and the parser). The bundle and its style sheet are files of this package, never a
 * CDN, so the page works on a network that reaches nothing but this service.
 *
 * The component is a dev dependency: `npm run build` copies its browser bundle, style sheet and
 * licences into dist/docs/asyncapi (scripts/copy-assets.mjs), so a production install carries
 * a few files instead of the component's dependency tree (React, jsdom, the parser and its
 * install scripts).
 * See @asyncapi/react-component's docs on its standalone bundle (in node_modules).
 */
import { createReadStream, existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createGunzip } from 'node:zlib'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { securityHeaders } from '../security-policy.js'

// Two levels up from src/docs or dist/docs is the package root, whichever of them runs; the
// assets are only ever in dist/, where the build put them.
export const ASYNCAPI_ASSET_DIR = fileURLToPath(new URL('../../dist/docs/asyncapi/', import.meta.url))

/**
 * The files the page loads, by the name it asks for, and the file in ASYNCAPI_ASSET_DIR that holds
 * each (as scripts/copy-assets.mjs writes them: the bundle gzipped).
 */
export const ASYNCAPI_ASSETS = {
  'standalone.js': { file: 'standalone.js.gz', type: 'text/javascript; charset=utf-8', gzipped: true },
  'default.min.css': { file: 'default.min.css', type: 'text/css; charset=utf-8', gzipped: false }
} as const

type Asset = typeof ASYNCAPI_ASSETS[keyof typeof ASYNCAPI_ASSETS]

/** Sends an asset; a gzipped one as it is to a client that takes gzip (every browser), else unzipped. */
function sendAsset (request: FastifyRequest, reply: FastifyReply, { file, type, gzipped }: Asset): FastifyReply {
  reply.type(type).header('cache-control', 'public, max-age=3600')
  const stream = createReadStream(join(ASYNCAPI_ASSET_DIR, file))
  if (!gzipped) return reply.send(stream)
  reply.header('vary', 'accept-encoding')
  if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) return reply.header('content-encoding', 'gzip').send(stream)
  return reply.send(stream.pipe(createGunzip()))
}

// Relative URLs: the page is /docs/asyncapi, so `asyncapi/...` and `asyncapi.json` stay under the
// prefix, whatever it is.
const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>chat-api WebSocket: AsyncAPI</title>
  <link rel="stylesheet" href="asyncapi/default.min.css">
  <link rel="stylesheet" href="asyncapi/page.css">
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

/**
 * What the component's style sheet leaves to the page it is put in. Its base rules (Tailwind's
 * preflight) are scoped as `.aui-root html` and `.aui-root body`, which match nothing, so the text
 * would take the browser's default serif font: the page applies them itself, with the component's
 * own font stack. And Tailwind Typography's default wraps every inline `<code>` of a rendered
 * Markdown description in backtick pseudo-elements, which read as Markdown left unrendered: they
 * go, and a light background marks the code instead.
 */
const PAGE_CSS = `html { line-height: 1.15; -moz-tab-size: 4; tab-size: 4; -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  font-family: ui-sans-serif, system-ui, -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Segoe UI Symbol", "Noto Color Emoji";
}
.aui-root .prose code::before, .aui-root .prose code::after { content: none; }
.aui-root .prose :not(pre) > code { background-color: #edf2f7; border-radius: .25rem; padding: .1em .3em; font-weight: 500; }
`

/** Registers `GET /docs/asyncapi` and its assets in `fastify` (under its prefix). */
export function registerAsyncApiPage (fastify: FastifyInstance): void {
  const missing = Object.values(ASYNCAPI_ASSETS).map(asset => asset.file).filter(file => !existsSync(join(ASYNCAPI_ASSET_DIR, file)))
  if (missing.length > 0) {
    // A checkout that was never built: the service runs on, without this one page.
    fastify.log.warn({ dir: ASYNCAPI_ASSET_DIR, missing }, 'AsyncAPI page assets not found (npm run build copies them); /docs/asyncapi is off')
    return
  }

  // A page for people, not an API endpoint: hidden from OpenAPI, as Swagger UI's /docs is.
  fastify.get('/docs/asyncapi', {
    schema: { hide: true },
    // The component validates the document with Ajv, which compiles its checks with `new Function`:
    // this page, which shows nothing but the service's own document, is the one that allows eval.
    helmet: securityHeaders({ scriptSrc: ["'unsafe-eval'"] })
  }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE))

  fastify.get('/docs/asyncapi/render.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(RENDER))
  fastify.get('/docs/asyncapi/page.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').send(PAGE_CSS))
  for (const [name, asset] of Object.entries(ASYNCAPI_ASSETS)) {
    fastify.get(`/docs/asyncapi/${name}`, { schema: { hide: true } }, async (request, reply) => sendAsset(request, reply, asset))
  }
}
