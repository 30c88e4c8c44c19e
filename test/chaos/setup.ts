/**
 * The Redis side of a chaos run: one throw-away redis-server with a breakable proxy per instance,
 * or the Sentinel set-up (the instances then reach the master the sentinels name, directly).
 */
import type { RedisUnderTest } from './faults.js'
import { ChaosProxy } from './proxy.js'
import { ChaosRedis } from './redis-server.js'
import { ChaosSentinel, SENTINEL_NAME } from './sentinel.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface RedisSetup {
  redis: RedisUnderTest & { url: string, pids: Array<[string, number | undefined]> }
  /** One per instance (none with Sentinel). */
  proxies: ChaosProxy[]
  /** The Redis variables of each instance. */
  env: Array<Record<string, string>>
}

export async function startRedis (t: Teardown, instances: number, sentinel: boolean): Promise<RedisSetup> {
  if (sentinel) {
    const set = await ChaosSentinel.start()
    t.teardown(() => set.stop())
    const env = { REDIS_SENTINELS: set.sentinelList, REDIS_SENTINEL_NAME: SENTINEL_NAME }
    return { redis: set, proxies: [], env: Array.from({ length: instances }, () => env) }
  }
  const redis = await ChaosRedis.start()
  t.teardown(() => redis.stop())
  const proxies: ChaosProxy[] = []
  t.teardown(() => Promise.all(proxies.map(p => p.close())))
  for (let i = 0; i < instances; i++) proxies.push(await ChaosProxy.start(redis.port))
  return { redis, proxies, env: proxies.map(proxy => ({ REDIS_URL: proxy.url })) }
}
