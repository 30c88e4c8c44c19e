-- Writes or renews a user's status leases, one per socket of this instance (user-status.lua reads
-- them). The set lives as long as the read state: a dead instance's expired leases stay until a
-- status read turns them into `lastSeen`.
--
-- KEYS[1] the user's leases zset   ARGV[1] lease (ms)   ARGV[2] READ_STATE_TTL_SEC   ARGV[3..] connectionIds
-- Returns how many leases were new.
local t = redis.call('TIME')
local expires = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
local added = 0
for i = 3, #ARGV do
  added = added + redis.call('ZADD', KEYS[1], expires, ARGV[i])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return added
