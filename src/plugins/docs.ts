/**
 * API documentation under the chat-api prefix: OpenAPI 3.1 from the route schemas (`/docs/json`),
 * Swagger UI (`/docs`), AsyncAPI 3.0 of the WebSocket frames (`/docs/asyncapi.json`) and a page
 * that renders it (`/docs/asyncapi`). Must be registered before the routes: swagger collects them
 * on onRoute.
 *
 * The frame schemas are added with `addSchema`, so they appear under `components.schemas` keyed by
 * their `$id`; they are the objects that src/ws/frame-validators.ts compiles.
 *
 * A host that has its own @fastify/swagger keeps it (our routes and frame schemas then appear in
 * the host's document); a host that already registered a schema `$id` keeps its schema.
 * See @fastify/swagger's README (in node_modules).
 */
import { readFileSync } from 'node:fs'
import fp from 'fastify-plugin'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { buildAsyncApi, nameOf } from '../docs/asyncapi.js'
import { registerAsyncApiPage } from '../docs/asyncapi-page.js'
import { openapiOptions } from '../docs/openapi.js'
import { CLIENT_FRAME_SCHEMAS, SERVER_FRAME_SCHEMAS } from '../schemas/frames.js'
import { SWAGGER_UI_STYLE_HASH } from '../security-policy.js'

// Two levels up from both src/plugins and dist/plugins.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

const AsyncApiDocumentSchema = Type.Object({
  asyncapi: Type.Literal('3.0.0')
}, {
  additionalProperties: true,
  description: 'AsyncAPI 3.0.0 document: channels `/ws` and `/ws/{room}`, one message per frame, close and error codes'
})

/**
 * Where clients reach the WebSocket endpoints: PUBLIC_URL (its path, if any, before the prefix),
 * else this instance's port on localhost, for a developer's machine.
 */
export function publicServer (publicUrl: string | undefined, port: number, prefix: string): { host: string, prefix: string, secure: boolean } {
  if (publicUrl === undefined) return { host: `localhost:${port}`, prefix, secure: false }
  const url = new URL(publicUrl)
  return { host: url.host, prefix: url.pathname.replace(/\/+$/, '') + prefix, secure: url.protocol === 'https:' }
}

const docsPlugin: FastifyPluginAsync = async (fastify) => {
  const authEnabled = fastify.config.AUTH_ENABLED
  for (const schema of [...CLIENT_FRAME_SCHEMAS, ...SERVER_FRAME_SCHEMAS]) {
    if (fastify.getSchema(nameOf(schema)) === undefined) fastify.addSchema(schema)
  }

  const prefix = fastify.prefix
  // Built once: the server it names comes from the configuration, never from a request's Host
  // header, which any client sets (a cached or shared copy would point readers elsewhere).
  const asyncApiDocument = buildAsyncApi({ ...publicServer(fastify.config.PUBLIC_URL, fastify.config.PORT, prefix), authEnabled, version })
  if (!fastify.hasPlugin('@fastify/swagger')) {
    await fastify.register(fastifySwagger, openapiOptions({ prefix, version, authEnabled }))
    // The UI's asset links are absolute and know nothing of our context's prefix: without
    // indexPrefix the page at /api/chat-api/docs would load /docs/static/... and stay blank.
    await fastify.register(fastifySwaggerUi, {
      routePrefix: '/docs',
      indexPrefix: prefix,
      transformStaticCSP: (header) => header.replace("style-src 'self'", `style-src 'self' ${SWAGGER_UI_STYLE_HASH}`)
    })
  }

  fastify.get('/docs/asyncapi.json', {
    schema: {
      tags: ['docs'],
      summary: 'AsyncAPI 3.0 document of the WebSocket channel and its frames',
      response: { 200: AsyncApiDocumentSchema }
    }
  }, async () => asyncApiDocument)
  registerAsyncApiPage(fastify)
}

export default fp(docsPlugin, { name: 'chat-api-docs', fastify: '5.x', dependencies: ['chat-api-config'] })
