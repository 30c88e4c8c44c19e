/**
 * The @fastify/swagger options of chat-api's OpenAPI document. It is OpenAPI 3.1, whose schema
 * objects are plain JSON Schema: `const` and `type: 'null'` stay as written, so a published frame
 * schema is the very JSON that validates the frames (3.0 would rewrite them to `enum`/`nullable`).
 * See "Managing your $refs" in @fastify/swagger's README (in node_modules).
 */
import type { SwaggerOptions } from '@fastify/swagger'
import { describeCodes, ERROR_CODE_DESCRIPTIONS } from './codes.js'
import { webhooksDocument } from './webhooks-doc.js'

export const SECURITY_SCHEMES = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'HS256 JWT signed with JWT_SECRET; `sub` is the user, optional `rooms` and `scope` claims'
  },
  accessToken: {
    type: 'apiKey',
    in: 'query',
    name: 'access_token',
    description: 'The same JWT in the query, for browsers, which cannot set headers on a WebSocket'
  }
} as const

/** The server API's key; routes that take it name it in their own `security`. */
export const API_KEY_SCHEME = {
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'API_KEY, for an application\'s backend: the server API and the read routes'
  }
} as const

interface OpenapiOptions {
  /** The chat-api prefix, for the link to the AsyncAPI document. */
  prefix: string
  version: string
  authEnabled: boolean
}

type Operation = { responses?: Record<string, unknown>, security?: unknown }

/**
 * Routes that may answer 401 take a token; with auth on they get a security requirement (either
 * scheme), so Swagger UI offers to send one. With auth off they need none, and the document says so.
 * A route that declares its own `security` (the server API) keeps it.
 */
function addSecurity (document: { paths?: Record<string, Record<string, Operation>> }): void {
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item)) {
      if (operation.responses?.['401'] !== undefined && operation.security === undefined) {
        operation.security = Object.keys(SECURITY_SCHEMES).map(name => ({ [name]: [] }))
      }
    }
  }
}

export function openapiOptions ({ prefix, version, authEnabled }: OpenapiOptions): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'chat-api',
        version,
        description: [
          'Real-time chat over WebSocket. Every frame is a named schema under `components.schemas`',
          '(client frames: JoinFrame, LeaveFrame, SendMessageFrame, SendBroadcastFrame, PingFrame, HistoryRequestFrame, RefreshFrame, PresenceRequestFrame);',
          'the same schemas validate the frames at run time. The channel, its messages and close codes',
          `are described as AsyncAPI 3.0 at [${prefix}/docs/asyncapi.json](${prefix}/docs/asyncapi.json).`,
          `\n\nAuthentication is ${authEnabled ? 'on' : 'off'} on this instance.`,
          '\n\nError codes of `error` frames:\n\n' + describeCodes(ERROR_CODE_DESCRIPTIONS)
        ].join(' ')
      },
      tags: [
        { name: 'websocket', description: 'WebSocket upgrades (the frames: components.schemas, or the AsyncAPI document)' },
        { name: 'stats', description: 'Counts of this instance' },
        { name: 'presence', description: 'Who is in a room on every instance, and which instances live' },
        { name: 'read-state', description: 'Unread counts of a user, and whether a user is online (version 3)' },
        { name: 'server-api', description: 'For an application\'s backend: publish and disconnect without a socket (X-API-Key, or a token with the chat:publish scope)' },
        { name: 'metrics', description: 'Prometheus metrics' },
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'docs', description: 'Machine-readable API descriptions' }
      ],
      components: { securitySchemes: structuredClone({ ...SECURITY_SCHEMES, ...API_KEY_SCHEME }) as never }
    },
    hideUntagged: true,
    convertConstToEnum: false,
    // Components keyed by `$id` (`#/components/schemas/ErrorResponse`), not `def-0`.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}`
    },
    transformObject: (documentObject) => {
      const document = 'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject
      if (authEnabled) addSecurity(document as Parameters<typeof addSecurity>[0])
      // What the service POSTs to WEBHOOK_URL (OpenAPI 3.1 `webhooks`).
      return { ...document, webhooks: webhooksDocument() as never }
    }
  }
}
