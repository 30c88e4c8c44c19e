-- Removes one connection from a room's presence (its lease and its entry) and, only when it was
-- there, tells the room. A lease removed as expired meanwhile is not there: each connection yields
-- exactly one `member_left`, from whichever of this script and the expiry ran first.
--
-- KEYS[1] the room's presence hash   KEYS[2] the room's leases zset
-- ARGV[1] connectionId   ARGV[2] room name   ARGV[3] room channel   ARGV[4] PUBLISH or SPUBLISH
--
-- Returns 1 when the entry was there, else 0.
redis.call('ZREM', KEYS[2], ARGV[1])
local member = redis.call('HGET', KEYS[1], ARGV[1])
if not member then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call(ARGV[4], ARGV[3], '~' .. ARGV[1] .. '\n{"type":"member_left","room":"' .. ARGV[2] .. '","member":' .. member .. '}')
return 1
