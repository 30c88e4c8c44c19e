/**
 * Starts one chat-api instance: configuration from the environment (and `.env`), listen, and a
 * graceful shutdown on SIGTERM/SIGINT bounded by SHUTDOWN_TIMEOUT_MS. Nothing else lives here.
 */
import { createRequire } from 'node:module'
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { loadConfig, type Config } from './plugins/config.js'

/**
 * Pretty logs for a person at a terminal, JSON lines for everything else. pino-pretty is a dev
 * dependency (a production install leaves it out, with its own dependencies): without it a
 * terminal gets JSON lines too.
 */
function prettyAtATerminal (): boolean {
  if (process.stdout.isTTY !== true) return false
  try {
    createRequire(import.meta.url).resolve('pino-pretty')
    return true
  } catch {
    return false
  }
}

let config: Config
try {
  config = loadConfig({ env: true, dotenv: true })
} catch (err) {
  // env-schema names the variable: "env/PORT must be integer".
  console.error(`chat-api: invalid configuration: ${(err as Error).message}`)
  process.exit(1)
}

let app: FastifyInstance
try {
  app = await buildApp({
    config,
    logger: {
      level: config.LOG_LEVEL,
      ...(prettyAtATerminal() ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {})
    }
  })
  // Plugins boot here: an unreachable REDIS_URL fails now, once Fastify's pluginTimeout is over.
  await app.ready()
} catch (err) {
  console.error(`chat-api: could not start: ${(err as Error).message}`)
  process.exit(1)
}

closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'closing after an unexpected error')
  else app.log.info({ signal }, 'shutting down')
  await app.close()
})

try {
  await app.listen({ port: config.PORT, host: config.HOST })
} catch (err) {
  app.log.error({ err }, 'could not start')
  process.exit(1)
}
