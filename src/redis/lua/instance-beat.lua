-- One heartbeat of an instance, in Redis time (instances' clocks may disagree; Redis has one).
--
-- KEYS[1] the instances zset   ARGV[1] instanceId
--
-- Returns {the previous heartbeat (false when the instance was not listed: first beat, claimed as
-- dead by another instance, or Redis lost its data), this one}, in ms.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[1])
return {previous, now}
