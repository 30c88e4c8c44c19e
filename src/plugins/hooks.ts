/**
 * The `chatHooks` decorator: the connect, join and publish hooks (docs/hooks.md), embedded (the
 * plugin option `hooks`) or over HTTP (HOOK_URL). Always decorated; with no hook on, every caller
 * checks a boolean and takes its usual path.
 */
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { hookEvents } from '../hooks/hook-config.js'
import { Hooks } from '../hooks/hooks.js'
import { HttpHooks } from '../hooks/http-hooks.js'
import { HOOK_NAMES, type HookFunctions } from '../hooks/types.js'
import { parseWebhookSecret } from '../signing/standard-webhooks.js'

declare module 'fastify' {
  interface FastifyInstance {
    chatHooks: Hooks
  }
}

export interface HooksPluginOptions {
  /** The `hooks` option of the chat-api plugin. */
  functions?: HookFunctions
}

/** An answer's envelope beside a rewritten `data` of up to WS_MAX_MESSAGE_BYTES. */
const ANSWER_ENVELOPE_BYTES = 16 * 1024

/** A bad option fails registration with its name, rather than a call failing at run time. */
function checkFunctions (functions: HookFunctions): void {
  if (typeof functions !== 'object' || functions === null) throw new Error('chat-api: the `hooks` option must be an object of functions')
  for (const [name, fn] of Object.entries(functions)) {
    if (!(HOOK_NAMES as readonly string[]).includes(name)) throw new Error(`chat-api: hooks.${name} is not a hook; the hooks are ${HOOK_NAMES.join(', ')}`)
    if (fn !== undefined && typeof fn !== 'function') throw new Error(`chat-api: hooks.${name} must be a function`)
  }
}

const hooksPlugin: FastifyPluginAsync<HooksPluginOptions> = async (fastify, opts) => {
  const { HOOK_URL, HOOK_SECRET, HOOK_EVENTS, HOOK_TIMEOUT_MS, HOOK_FAILURE, WS_MAX_MESSAGE_BYTES } = fastify.config
  const functions = opts.functions
  if (functions !== undefined) checkFunctions(functions)
  if (functions !== undefined && HOOK_URL !== undefined) {
    throw new Error('chat-api: the `hooks` option and HOOK_URL are both set; use one of them')
  }
  let http: ConstructorParameters<typeof Hooks>[0]['http']
  if (HOOK_URL !== undefined) {
    // The config check refused a missing or malformed secret already; this keeps the plugin safe alone.
    const key = HOOK_SECRET === undefined ? undefined : parseWebhookSecret(HOOK_SECRET)
    if (key === undefined) throw new Error('env: HOOK_URL needs a valid HOOK_SECRET')
    const caller = new HttpHooks(HOOK_URL, key, HOOK_TIMEOUT_MS, WS_MAX_MESSAGE_BYTES + ANSWER_ENVELOPE_BYTES)
    http = { caller, events: hookEvents(HOOK_EVENTS) }
  }
  const hooks = new Hooks({
    functions,
    http,
    timeoutMs: HOOK_TIMEOUT_MS,
    failure: HOOK_FAILURE,
    maxDataBytes: WS_MAX_MESSAGE_BYTES,
    log: fastify.log
  })
  hooks.observer = fastify.metrics
  fastify.decorate('chatHooks', hooks)
  if (hooks.anyOn) {
    const where = HOOK_URL !== undefined ? `over HTTP (HOOK_FAILURE=${HOOK_FAILURE})` : `embedded (HOOK_FAILURE=${HOOK_FAILURE})`
    fastify.log.info({ connect: hooks.connectOn, join: hooks.joinOn, publish: hooks.publishOn }, `hooks on, ${where}`)
  }
  fastify.addHook('onClose', async () => { await hooks.close() })
}

export default fp(hooksPlugin, { name: 'chat-api-hooks', fastify: '5.x', dependencies: ['chat-api-config', 'chat-api-metrics'] })
