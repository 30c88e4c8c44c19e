/**
 * The security headers of chat-api's answers, as plain values: the helmet options that the plugin
 * (src/plugins/security-headers.ts) applies to every answer, and that a page needing more of the
 * CSP (the AsyncAPI page, Swagger UI) extends on its own routes. Here, in the contract layer, so the
 * pages below the plugins read them without importing a plugin.
 *
 * Helmet's defaults are narrowed where they would break or overreach: no `upgrade-insecure-requests`
 * (a plain-HTTP deployment's pages would ask for https assets that do not exist), no inline styles,
 * and no HSTS (the TLS-terminating proxy owns that, for the whole host name).
 * See @fastify/helmet's README (in node_modules).
 */

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
 * on Swagger UI's routes only (src/plugins/docs.ts); a new Swagger UI with another logo shows up as
 * a CSP error in test/e2e/chromium-security.test.ts.
 */
export const SWAGGER_UI_STYLE_HASH = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"
