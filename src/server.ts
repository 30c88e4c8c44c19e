/**
 * Starts one chat-api instance: configuration from the environment (and `.env`), listen, and a
 * graceful shutdown on SIGTERM/SIGINT bounded by SHUTDOWN_TIMEOUT_MS. Nothing else lives here.
 */
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { loadConfig, type Config } from './plugins/config.js'

let config: Config
try {
  config = loadConfig({ env: true, dotenv: true })
} catch (err) {
  // env-schema names the variable: "env/PORT must be integer".
  console.error(`chat-api: invalid configuration: ${(err as Error).message}`)
  process.exit(1)
}

const app = await buildApp({
  config,
  logger: {
    level: config.LOG_LEVEL,
    // Pretty logs for a person at a terminal; JSON lines for everything else.
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {})
  }
})

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
