/**
 * The Lua scripts of the history, each in its own file beside this one, read once and defined on
 * a client as commands (ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT, e.g. after a
 * Redis restart). `build` copies the lua folder next to the compiled file.
 */
import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'

const lua = (name: string): string => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
// EVAL scripts cannot include one another: the shared function is prepended to each.
const HISTORY_EPOCH = lua('history-epoch')

const SCRIPTS = {
  chatAppend: HISTORY_EPOCH + lua('append'),
  chatSince: HISTORY_EPOCH + lua('since'),
  chatPage: HISTORY_EPOCH + lua('page')
}

type Reply = Promise<Array<Buffer | number>>

/** The commands defined on a client: numbers of keys are given per call (the key list varies). */
export interface HistoryScripts {
  chatAppendBuffer (numKeys: number, ...args: Array<string | number>): Reply
  chatSinceBuffer (numKeys: number, ...args: Array<string | number>): Reply
  chatPageBuffer (numKeys: number, ...args: Array<string | number>): Reply
}

/** On a Cluster, each call goes to the master of its keys' slot (one slot per room: layout.ts). */
export type ScriptedRedis = (Redis | Cluster) & HistoryScripts

export function defineScripts (client: Redis | Cluster): ScriptedRedis {
  for (const [name, source] of Object.entries(SCRIPTS)) {
    if (!(name in client)) client.defineCommand(name, { lua: source })
  }
  return client as ScriptedRedis
}
