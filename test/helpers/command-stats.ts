/**
 * What reached a Redis, from INFO commandstats, for tests that count commands. A call that failed
 * ran nothing: chiefly the NOSCRIPT answered to an EVALSHA on a Redis that has not seen the script,
 * which ioredis follows with an EVAL of it, so counting calls alone would count that script twice.
 */
import type { Redis } from 'ioredis'

/**
 * Calls that did not fail, per command (lower-case; a subcommand as `config|resetstat`), since the
 * Redis started or its last CONFIG RESETSTAT.
 */
export async function commandCalls (admin: Redis): Promise<Map<string, number>> {
  return commandCallsIn(await admin.info('commandstats'))
}

/** The same, from an INFO commandstats text already read. */
export function commandCallsIn (info: string): Map<string, number> {
  const calls = new Map<string, number>()
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),.*failed_calls=(\d+)/gm)) {
    calls.set(m[1], Number(m[2]) - Number(m[3]))
  }
  return calls
}

/** The script calls that ran (EVALSHA, and EVAL after a NOSCRIPT). */
export async function scriptCalls (admin: Redis): Promise<number> {
  return scriptCallsOf(await commandCalls(admin))
}

export function scriptCallsOf (calls: Map<string, number>): number {
  return (calls.get('evalsha') ?? 0) + (calls.get('eval') ?? 0)
}
