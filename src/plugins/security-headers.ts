/**
 * Security headers on every answer of chat-api's context (the demo, Swagger UI, the AsyncAPI page,
 * and the JSON routes alike), through @fastify/helmet: a Content-Security-Policy under which only
 * the service's own scripts and styles run, `nosniff`, no referrer, and no framing (clickjacking).
 *
 * Helmet's defaults are narrowed where they would break or overreach: no `upgrade-insecure-requests`
 * (a plain-HTTP deployment's pages would ask for https assets that do not exist), no inline styles,
 * and no HSTS (the TLS-terminating proxy owns that, for the whole host name). A host that registered
 * @fastify/helmet already keeps its own policy.
 * See @fastify/helmet's README (in node_modules).
 */
import fp from 'fastify-plugin'
import fastifyHelmet from '@fastify/helmet'
import type { FastifyPluginAsync } from 'fastify'

export const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    // The socket and `fetch` go to this service; CSP level 3 lets 'self' match ws:/wss: too.
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    // Swagger UI's icons and the demo's empty favicon are data: URLs.
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'"]
  }
}

/** The helmet options of chat-api; a page that needs more of the CSP names what it adds (and why). */
export function securityHeaders (extra: { scriptSrc?: string[] } = {}) {
  const { directives } = CONTENT_SECURITY_POLICY
  return {
    contentSecurityPolicy: {
      ...CONTENT_SECURITY_POLICY,
      directives: { ...directives, scriptSrc: [...directives.scriptSrc, ...(extra.scriptSrc ?? [])] }
    },
    referrerPolicy: { policy: 'no-referrer' as const },
    xFrameOptions: { action: 'deny' as const },
    strictTransportSecurity: false as const
  }
}

/**
 * The one inline style Swagger UI applies: the `<style>` inside its logo's SVG. Allowed by its hash,
 * on Swagger UI's routes only (docs.ts); a new Swagger UI with another logo shows up as a CSP error
 * in test/e2e/chromium-security.test.ts.
 */
export const SWAGGER_UI_STYLE_HASH = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"

const securityHeadersPlugin: FastifyPluginAsync = async (fastify) => {
  if (fastify.hasPlugin('@fastify/helmet')) return
  await fastify.register(fastifyHelmet, securityHeaders())
}

export default fp(securityHeadersPlugin, { name: 'chat-api-security-headers', fastify: '5.x' })
