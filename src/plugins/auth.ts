/**
 * The `auth` decorator: turns an upgrade or stats request into a Principal, or refuses it with 401
 * before any upgrade. With AUTH_ENABLED=false everyone is anonymous and may do everything.
 *
 * @fastify/jwt is registered under the `chatApi` namespace: a host that registered it already owns
 * the `jwt` decorator and `request.jwtVerify`, and registering it a second time without a namespace
 * would fail with FST_ERR_DEC_ALREADY_PRESENT. With a namespace, the host's verifier, secret and
 * request decorators stay untouched.
 * See "namespace" in @fastify/jwt's README (in node_modules).
 */
import fp from 'fastify-plugin'
import fastifyJwt, { type JWT } from '@fastify/jwt'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { extractToken } from '../auth/extract-token.js'
import { principalFromClaims, type ClaimsResult } from '../auth/claims.js'
import { MALFORMED_HEADER, MALFORMED_QUERY, MISSING_TOKEN, UNAUTHORIZED, reasonOf } from '../auth/unauthorized.js'
import { ANONYMOUS, type Principal } from '../hub/principal.js'

declare module 'fastify' {
  interface FastifyInstance {
    auth: Auth
  }
  interface FastifyRequest {
    /** Set by `auth.authenticate`; null before it ran. */
    principal: Principal | null
    /** The verified token's claims (for the connect hook); null before `authenticate`, or with auth off. */
    tokenClaims: Record<string, unknown> | null
  }
}

export interface Auth {
  enabled: boolean
  /** A preValidation hook: answers 401 JSON, or sets `request.principal`. */
  authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>
  /** Checks a token as `authenticate` does (a `refresh` frame's); with auth off, every token is refused. */
  verify: (token: string) => ClaimsResult
}

export const JWT_NAMESPACE = 'chatApi'
/** RFC 7518 3.2: an HS256 key must be at least as long as the hash. */
const MIN_SECRET_BYTES = 32

/** The 401, with the RFC 6750 challenge: no error code when no token came at all. */
function refuse (reply: FastifyReply, message: string, tokenGiven: boolean): FastifyReply {
  return reply.code(401)
    .header('www-authenticate', tokenGiven ? 'Bearer error="invalid_token"' : 'Bearer')
    .send({ error: UNAUTHORIZED, message })
}

/** What a token must carry besides a good HS256 signature: JWT_AUDIENCE / JWT_ISSUER when set. */
export interface Binding {
  audience?: string
  issuer?: string
}

async function registerVerifier (fastify: Parameters<FastifyPluginAsync>[0], secret: string, binding: Binding): Promise<JWT> {
  const hostHasJwt = fastify.hasDecorator('jwt')
  // fast-jwt checks `aud` / `iss` only when the token has them: each one asked for is also required.
  const requiredClaims = [...(binding.audience !== undefined ? ['aud'] : []), ...(binding.issuer !== undefined ? ['iss'] : [])]
  await fastify.register(fastifyJwt, {
    secret,
    namespace: JWT_NAMESPACE,
    decoratorName: 'chatApiClaims',
    verify: {
      // The contract is HS256: no other algorithm is taken, whatever the token's header says.
      algorithms: ['HS256'],
      // A secret shared with other services signs their tokens too; only the audience and the
      // issuer tell a token minted for chat-api from one minted for billing (JWT_AUDIENCE / JWT_ISSUER).
      ...(binding.audience !== undefined ? { allowedAud: binding.audience } : {}),
      ...(binding.issuer !== undefined ? { allowedIss: binding.issuer } : {}),
      ...(requiredClaims.length > 0 ? { requiredClaims } : {})
    }
  })
  // Typed as a map only here: declaring the namespace on FastifyJWT would retype a host's `jwt`.
  const namespaces = fastify.jwt as unknown as Record<string, JWT>
  const jwt = namespaces[JWT_NAMESPACE]
  // Inherited from a host, `jwt` is the host's object, and the namespace went onto it. Taken back,
  // the host's decorator stays as the host made it, and a second chat-api in the same host does
  // not fail with "JWT namespace already used". Nothing looks the namespace up later.
  if (hostHasJwt) delete namespaces[JWT_NAMESPACE]
  return jwt
}

const authPlugin: FastifyPluginAsync = async (fastify) => {
  fastify.decorateRequest('principal', null)
  fastify.decorateRequest('tokenClaims', null)
  const { AUTH_ENABLED, JWT_SECRET, JWT_AUDIENCE, JWT_ISSUER } = fastify.config
  if (!AUTH_ENABLED) {
    fastify.decorate('auth', {
      enabled: false,
      async authenticate (request) {
        request.principal = ANONYMOUS
        return undefined
      },
      verify: () => ({ problem: 'authentication is off' })
    } satisfies Auth)
    return
  }

  // The config schema already refuses this; the check keeps the plugin safe when used alone.
  if (JWT_SECRET === undefined || JWT_SECRET === '') throw new Error('JWT_SECRET is required when AUTH_ENABLED=true')
  if (Buffer.byteLength(JWT_SECRET) < MIN_SECRET_BYTES) {
    fastify.log.warn(`JWT_SECRET is shorter than ${MIN_SECRET_BYTES} bytes: use a longer random secret for HS256`)
  }
  const jwt = await registerVerifier(fastify, JWT_SECRET, { audience: JWT_AUDIENCE, issuer: JWT_ISSUER })
  function verify (token: string): ClaimsResult {
    let claims: unknown
    try {
      claims = jwt.verify(token)
    } catch (error) {
      return { problem: reasonOf(error) }
    }
    return principalFromClaims(claims)
  }

  fastify.decorate('auth', {
    enabled: true,
    async authenticate (request, reply) {
      const extracted = extractToken(request)
      if ('problem' in extracted) {
        switch (extracted.problem) {
          case 'missing': return refuse(reply, MISSING_TOKEN, false)
          case 'malformed_header': return refuse(reply, MALFORMED_HEADER, true)
          case 'malformed_query': return refuse(reply, MALFORMED_QUERY, true)
        }
      }
      const result = verify(extracted.token)
      if ('problem' in result) return refuse(reply, result.problem, true)
      request.principal = result.principal
      request.tokenClaims = result.claims
      return undefined
    },
    verify
  } satisfies Auth)
}

export default fp(authPlugin, { name: 'chat-api-auth', fastify: '5.x', dependencies: ['chat-api-config'] })
