-- One heartbeat of an instance, in Redis time (instances' clocks may disagree; Redis has one).
-- Instances dead for longer than `keep` are dropped from the set, and the set itself expires once
-- no instance beats any more: nothing here outlives the cluster.
--
-- KEYS[1] the instances zset   ARGV[1] instanceId   ARGV[2] keep (ms)
--
-- Returns {the previous heartbeat (false when the instance was not listed: first beat, dropped
-- after a stall longer than `keep`, or Redis lost its data), this one}, in ms.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local keep = tonumber(ARGV[2])
local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - keep))
redis.call('PEXPIRE', KEYS[1], keep)
return {previous, now}
