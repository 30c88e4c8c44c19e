-- A user's online status from its status leases (one per socket, renewed by the socket's instance
-- at every heartbeat), cleaning up the expired ones: a lease nobody renewed belongs to a socket of
-- an instance that died, and the socket was last seen when the lease was last renewed.
--
-- KEYS[1] the user's leases zset (connectionId -> expiry, Redis time ms)   KEYS[2] the last-seen string
-- ARGV[1] how long a lease lives (ms)   ARGV[2] READ_STATE_TTL_SEC   ARGV[3] '1': a socket closes:
-- remove ARGV[4] first   ARGV[4] its connectionId
-- KEYS[3], only in the webhooks' offline check (chatUserOffline): the user's online mark, deleted
-- when no lease is live, in the same step, so that a connect's lease written before its SET NX of
-- the mark is either counted here or finds the mark gone (src/webhooks/user-events.ts).
-- Returns {live leases, last seen (ms, or -1 when unknown), 1 if KEYS[3] was deleted else 0}.
local leases, seen = KEYS[1], KEYS[2]
local leaseMs, ttl = tonumber(ARGV[1]), ARGV[2]
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local last = tonumber(redis.call('GET', seen)) or -1
local lastBefore = last

local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'WITHSCORES')
if #expired > 0 then
  -- The newest expired lease was renewed last `leaseMs` before it ran out.
  last = math.max(last, tonumber(expired[#expired]) - leaseMs)
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
end
if ARGV[3] == '1' and redis.call('ZREM', leases, ARGV[4]) == 1 and redis.call('ZCARD', leases) == 0 then
  last = now
end
local live = redis.call('ZCARD', leases)
if last ~= lastBefore then redis.call('SET', seen, last, 'EX', ttl) end
local unmarked = 0
if KEYS[3] and live == 0 then unmarked = redis.call('DEL', KEYS[3]) end
return {live, last, unmarked}
