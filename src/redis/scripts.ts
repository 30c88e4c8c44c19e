/**
 * The Lua scripts of the history and of presence, each in its own file beside this one, read once and defined on
 * a client as commands (ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT, e.g. after a
 * Redis restart). `build` copies the lua folder next to the compiled file.
 */
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'

const lua = (name: string): string => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
// EVAL scripts cannot include one another: the shared function is prepended to each.
const HISTORY_EPOCH = lua('history-epoch')

const SCRIPTS = {
  chatAppend: HISTORY_EPOCH + lua('append'),
  chatSince: HISTORY_EPOCH + lua('since'),
  chatPage: HISTORY_EPOCH + lua('page'),
  chatPresenceJoin: lua('presence-join'),
  chatPresenceLeave: lua('presence-leave'),
  chatPresenceList: lua('presence-list'),
  chatInstanceBeat: lua('instance-beat'),
  chatInstancesSince: lua('instances-since')
}

type Reply = Promise<Array<Buffer | number>>

/** The client with the commands defined: numbers of keys are given per call (the key list varies). */
export interface ScriptedRedis extends Redis {
  chatAppendBuffer (numKeys: number, ...args: Array<string | number>): Reply
  chatSinceBuffer (numKeys: number, ...args: Array<string | number>): Reply
  chatPageBuffer (numKeys: number, ...args: Array<string | number>): Reply
  chatPresenceJoin (numKeys: number, ...args: Array<string | number>): Promise<number>
  chatPresenceLeave (numKeys: number, ...args: Array<string | number>): Promise<number>
  chatPresenceList (numKeys: number, ...args: Array<string | number>): Promise<[number, ...string[]]>
  chatInstanceBeat (numKeys: number, ...args: Array<string | number>): Promise<[string | null, number]>
  chatInstancesSince (numKeys: number, ...args: Array<string | number>): Promise<string[]>
}

export function defineScripts (client: Redis): ScriptedRedis {
  for (const [name, source] of Object.entries(SCRIPTS)) {
    if (!(name in client)) client.defineCommand(name, { lua: source })
  }
  return client as ScriptedRedis
}
