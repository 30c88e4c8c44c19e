/**
 * The hooks of one app: which are on, and `decide`, which calls one (an embedded function or
 * HOOK_URL) within HOOK_TIMEOUT_MS and turns its answer into a Decision. A hook that times out,
 * throws, answers non-2xx or malformed JSON refuses with `unavailable` when HOOK_FAILURE=closed
 * and allows when `open`. `decide` never rejects.
 */
import { readAnswer } from './answer.js'
import type { HttpHooks } from './http-hooks.js'
import type { Decision, HookFunctions, HookName } from './types.js'

export type HookFailure = 'closed' | 'open'

/** Told of every call (the metrics): its duration, and whether it failed. */
export interface HookObserver {
  hookCalled (hook: HookName, seconds: number, failed: boolean): void
}

export interface HookLog {
  warn (obj: object, msg: string): void
}

export interface HooksOptions {
  /** Embedded functions; exclusive with `http`. */
  functions?: HookFunctions
  /** HOOK_URL, and which hooks it serves (HOOK_EVENTS). */
  http?: { caller: Pick<HttpHooks, 'call' | 'close'>, events: ReadonlySet<HookName> }
  timeoutMs: number
  failure: HookFailure
  /** Bound of a publish hook's rewritten `data` (WS_MAX_MESSAGE_BYTES). */
  maxDataBytes: number
  log: HookLog
}

/** One failure log a second per hook: a hook server that is down must not flood the log. */
const LOG_EVERY_MS = 1000

const REFUSAL_CODE = { connect: 'forbidden', join: 'forbidden', publish: 'rejected' } as const

export class Hooks {
  /** Set by the metrics plugin when metrics are on. */
  observer: HookObserver | null = null
  /** Whether each hook is on; when false the caller skips it entirely (no promise, no timer). */
  readonly connectOn: boolean
  readonly joinOn: boolean
  readonly publishOn: boolean
  private readonly lastLogged: Record<HookName, number> = { connect: 0, join: 0, publish: 0 }

  constructor (private readonly opts: HooksOptions) {
    this.connectOn = this.has('connect')
    this.joinOn = this.has('join')
    this.publishOn = this.has('publish')
  }

  private has (hook: HookName): boolean {
    return this.opts.functions?.[hook] !== undefined || (this.opts.http?.events.has(hook) ?? false)
  }

  get anyOn (): boolean {
    return this.connectOn || this.joinOn || this.publishOn
  }

  /**
   * Calls the hook with `input` (for HTTP, `body` is its JSON when the caller has it already) and
   * decides. A hook that is off allows.
   */
  async decide (hook: HookName, input: object, body?: string): Promise<Decision> {
    const started = performance.now()
    let answer: unknown
    try {
      answer = await this.call(hook, input, body)
    } catch (err) {
      return this.failed(hook, started, err instanceof Error ? err.message : String(err))
    }
    const read = readAnswer(hook, answer, this.opts.maxDataBytes)
    if (!read.ok) {
      // A rewrite too large to deliver is refused even when open: letting the original through
      // would deliver what the hook meant to replace.
      if (read.tooLarge) {
        this.failed(hook, started, read.problem)
        return { allow: false, code: 'rejected', reason: read.problem }
      }
      return this.failed(hook, started, `malformed answer: ${read.problem}`)
    }
    this.observer?.hookCalled(hook, (performance.now() - started) / 1000, false)
    if (!read.allow) return { allow: false, code: REFUSAL_CODE[hook], reason: read.reason }
    return read.meta === undefined && read.data === undefined ? ALLOW : { allow: true, meta: read.meta, data: read.data }
  }

  /** The hook's raw answer within the deadline; throws on a timeout or the hook's own error. */
  private async call (hook: HookName, input: object, body: string | undefined): Promise<unknown> {
    const fn = this.opts.functions?.[hook] as ((input: object) => unknown) | undefined
    const ac = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        ac.abort()
        reject(new Error(`no answer within ${this.opts.timeoutMs} ms (HOOK_TIMEOUT_MS)`))
      }, this.opts.timeoutMs)
      timer.unref() // a deadline, not work: it must not keep a closing process alive
    })
    try {
      const pending = fn !== undefined
        ? Promise.resolve().then(() => fn(input))
        : this.opts.http?.caller.call(hook, body ?? JSON.stringify(input), ac.signal)
      if (pending === undefined) return ALLOW // off: allowed
      // The losing promise of the race still settles (a function that throws late, an aborted
      // request): a no-op catch keeps it from becoming an unhandled rejection.
      pending.catch(() => {})
      return await Promise.race([pending, deadline])
    } finally {
      clearTimeout(timer)
    }
  }

  private failed (hook: HookName, started: number, problem: string): Decision {
    this.observer?.hookCalled(hook, (performance.now() - started) / 1000, true)
    const now = performance.now()
    if (now - this.lastLogged[hook] >= LOG_EVERY_MS) {
      this.lastLogged[hook] = now
      this.opts.log.warn({ hook, problem, failure: this.opts.failure }, `the ${hook} hook failed`)
    }
    if (this.opts.failure === 'open') return ALLOW
    // The problem goes to the log, not to the client: it may describe the backend.
    return { allow: false, code: 'unavailable', reason: `the ${hook} hook could not be reached or answered badly; try again later` }
  }

  async close (): Promise<void> {
    await this.opts.http?.caller.close()
  }
}

const ALLOW: Decision = Object.freeze({ allow: true })
