/**
 * Log serializers that never write a token. Browsers send the JWT as `access_token` in the query
 * string, and Fastify's default request serializer logs the whole URL. Headers are never logged,
 * so `Authorization` needs nothing here; both installers below replace any other `req` serializer.
 */
import type { FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify'

const TOKEN_PARAM = 'access_token'

/** The query's name as the parser will read it: `access%5Ftoken` is `access_token` too. */
function paramName (pair: string): string {
  const raw = pair.split('=', 1)[0].replace(/\+/g, ' ')
  try {
    return decodeURIComponent(raw).toLowerCase()
  } catch {
    return raw.toLowerCase()
  }
}

/**
 * The URL with the value of every `access_token` parameter replaced by `[redacted]`. Everything
 * after `?` counts as query, a `#` included: what the parser reads as the token is hidden whole.
 */
export function redactUrl (url: string): string {
  const start = url.indexOf('?')
  if (start === -1) return url
  const redacted = url.slice(start + 1).split('&')
    .map(pair => paramName(pair) === TOKEN_PARAM ? `${pair.split('=', 1)[0]}=[redacted]` : pair)
    .join('&')
  return `${url.slice(0, start)}?${redacted}`
}

/** Fastify's default request serializer, minus the token. */
export function redactRequest (request: FastifyRequest) {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  }
}

type LoggerOption = FastifyServerOptions['logger']
/** Fastify does not export the factory's type by name. */
type ChildLoggerFactory = FastifyInstance['childLoggerFactory']

/**
 * Logger options with the redacting request serializer. It goes inside the logger options:
 * Fastify has no top-level `serializers` option. It wins over a caller's own `req` serializer,
 * which could log the URL or the headers.
 */
export function redactedLogger (logger: LoggerOption): LoggerOption {
  if (logger === undefined || logger === false) return false
  const options = logger === true ? {} : logger
  return { ...options, serializers: { ...options.serializers, req: redactRequest } }
}

/**
 * A child logger factory for chat-api's context: every request it handles, the 404s included,
 * logs through `redactRequest`, also under a host app's logger and its default serializers.
 * Route-level `logSerializers` would miss the 404 handler, whose context takes none.
 */
export function redactingChildLoggerFactory (inherited: ChildLoggerFactory): ChildLoggerFactory {
  return function (logger, bindings, opts, rawRequest) {
    const serializers = Object.assign(Object.create(opts.serializers ?? null), { req: redactRequest })
    return inherited.call(this, logger, bindings, { ...opts, serializers }, rawRequest)
  }
}
