/**
 * The checks of the hook variables that JSON Schema cannot word for an operator: HOOK_URL needs a
 * valid HOOK_SECRET (`whsec_` + base64 of at least 24 bytes), and HOOK_EVENTS names known hooks.
 */
import { parseWebhookSecret } from '../signing/standard-webhooks.js'
import { HOOK_NAMES, type HookName } from './types.js'

export interface HookConfig {
  HOOK_URL?: string
  HOOK_SECRET?: string
  HOOK_EVENTS?: string
}

/** Throws `env: HOOK_...` naming the variable; returns nothing when the hook variables are coherent. */
export function checkHookConfig (config: HookConfig): void {
  if (config.HOOK_URL === undefined) return
  if (config.HOOK_SECRET === undefined) {
    throw new Error('env: HOOK_URL is set without HOOK_SECRET; hook requests are signed with it (whsec_ followed by base64 of at least 24 bytes)')
  }
  if (parseWebhookSecret(config.HOOK_SECRET) === undefined) {
    throw new Error('env: HOOK_SECRET must be whsec_ followed by base64 of at least 24 bytes')
  }
  hookEvents(config.HOOK_EVENTS)
}

/** The hooks HOOK_URL serves: HOOK_EVENTS, or all three when unset. */
export function hookEvents (text: string | undefined): Set<HookName> {
  if (text === undefined) return new Set(HOOK_NAMES)
  const names = text.split(',').map(name => name.trim()).filter(name => name !== '')
  const unknown = names.find(name => !(HOOK_NAMES as readonly string[]).includes(name))
  if (unknown !== undefined) throw new Error(`env: HOOK_EVENTS names "${unknown}"; it takes a comma-separated list of ${HOOK_NAMES.join(', ')}`)
  return new Set(names as HookName[])
}
