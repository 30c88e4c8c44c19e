/**
 * The hooks' public shapes (docs/hooks.md): what each hook is given and what it may answer. An
 * embedder passes functions of these types in the plugin options; `HOOK_URL` receives the same
 * inputs as JSON and answers the same JSON.
 */

export type HookName = 'connect' | 'join' | 'publish'
export const HOOK_NAMES: readonly HookName[] = ['connect', 'join', 'publish']

export interface ConnectInput {
  /** The token's `sub`; null when auth is off. */
  user: string | null
  /** The verified token's claims; null when auth is off. */
  claims: Record<string, unknown> | null
  remoteAddress: string
  headers: { origin: string | null, 'user-agent': string | null }
}

export interface JoinInput {
  room: string
  user: string | null
  connectionId: string
}

export interface PublishInput {
  room: string
  user: string | null
  /** null for the server API. */
  connectionId: string | null
  data: unknown
  transient: boolean
}

/** What a hook answers: `{allow:true}` (plus `meta` for connect, `data` for publish) or `{allow:false,reason}`. */
export interface HookAnswer {
  allow: boolean
  reason?: string
  /** connect only: a JSON object of at most 1 KiB, shown by presence on the member. */
  meta?: Record<string, unknown>
  /** publish only: replaces the message's data before it is numbered, stored and delivered. */
  data?: unknown
}

/** The `hooks` plugin option: each one optional, async, of one argument. */
export interface HookFunctions {
  connect?: (input: ConnectInput) => Promise<HookAnswer> | HookAnswer
  join?: (input: JoinInput) => Promise<HookAnswer> | HookAnswer
  publish?: (input: PublishInput) => Promise<HookAnswer> | HookAnswer
}

/**
 * A hook's decision as the service acts on it. `meta` and `data` are JSON text, checked already.
 * A refusal carries the code the client gets: the hook's own (`forbidden` for connect and join,
 * `rejected` for publish), or `unavailable` when the hook failed and HOOK_FAILURE=closed.
 */
export type Decision =
  | { allow: true, meta?: string, data?: string }
  | { allow: false, code: 'forbidden' | 'rejected' | 'unavailable', reason: string }
