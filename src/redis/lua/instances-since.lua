-- The instances whose last heartbeat is newer (ARGV[2] = 'live') or older ('dead') than `age` ms
-- ago, in Redis time, with their heartbeats.
--
-- KEYS[1] the instances zset   ARGV[1] age in ms   ARGV[2] 'live' or 'dead'
--
-- Returns {instanceId, heartbeat, ...}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local bound = now - tonumber(ARGV[1])
if ARGV[2] == 'live' then
  return redis.call('ZRANGEBYSCORE', KEYS[1], bound, '+inf', 'WITHSCORES')
end
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. bound, 'WITHSCORES')
