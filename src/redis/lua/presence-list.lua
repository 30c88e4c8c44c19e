-- Every member of a room whose lease has not expired (count) and at most `limit` of them (as JSON).
-- Read-only: an expired lease is left out here whether or not a heartbeat has removed it yet, so a
-- list is right from the moment a lease expires, by Redis's clock alone.
--
-- KEYS[1] the room's presence hash   KEYS[2] the room's leases zset   ARGV[1] limit
--
-- Returns {count, member JSON...}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local live = '(' .. now
local count = redis.call('ZCOUNT', KEYS[2], live, '+inf')
local reply = {count}
if count == 0 then return reply end
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], live, '+inf', 'LIMIT', 0, tonumber(ARGV[1]))
local members = redis.call('HMGET', KEYS[1], unpack(ids))
for i = 1, #members do
  if members[i] then reply[#reply + 1] = members[i] end
end
return reply
