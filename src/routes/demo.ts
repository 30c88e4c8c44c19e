/**
 * The demo page at `GET /` (under the prefix): plain HTML and ES modules (demo.js and the modules
 * it imports) that import the compiled client from `/client/`, no bundler. The page and its assets
 * are served from `src/public`, every file of it (also when running from `dist`), the client from
 * `dist/client`, which `npm run build` writes.
 * DEMO_ENABLED=false registers nothing, so every one of these paths is a 404.
 * See @fastify/static's README (in node_modules).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

// Two levels up from src/routes or dist/routes is the package root, whichever of them runs.
const PUBLIC_DIR = fileURLToPath(new URL('../../src/public/', import.meta.url))
const CLIENT_DIR = fileURLToPath(new URL('../../dist/client/', import.meta.url))

const demoRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  if (!fastify.config.DEMO_ENABLED) return
  let page: string
  try {
    page = await readFile(join(PUBLIC_DIR, 'index.html'), 'utf8')
  } catch (err) {
    // An installed package ships dist/ only: the service runs on, without its demo.
    fastify.log.warn({ err }, 'demo page not found; the demo is off')
    return
  }

  // The page's relative URLs (`client/index.js`, `ws`) need the trailing slash to resolve under
  // the prefix, so the bare prefix redirects to it.
  fastify.get('/', { schema: { hide: true } }, async (request, reply) => {
    const [path, query] = request.url.split('?', 2)
    if (!path.endsWith('/')) return reply.redirect(`${path}/${query === undefined ? '' : `?${query}`}`)
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page)
  })

  // decorateReply: false, since the host (or swagger-ui) may have decorated `sendFile` already.
  // @fastify/static hides its routes from OpenAPI by itself (`schemaHide` defaults to true).
  await fastify.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/demo/', decorateReply: false, index: false })
  await fastify.register(fastifyStatic, { root: CLIENT_DIR, prefix: '/client/', decorateReply: false, index: false })
}

export default demoRoutes
