-- Removes one connection from a room's presence and, only when it was there, tells the room. Two
-- instances cleaning up after the same dead one may both run this for an entry: HDEL answers 1 to
-- exactly one of them, so each lost connection yields exactly one `member_left`.
--
-- KEYS[1] the room's presence hash
-- ARGV[1] connectionId   ARGV[2] room name   ARGV[3] room channel   ARGV[4] PUBLISH or SPUBLISH
--
-- Returns 1 when the entry was there, else 0.
local member = redis.call('HGET', KEYS[1], ARGV[1])
if not member then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call(ARGV[4], ARGV[3], '~' .. ARGV[1] .. '\n{"type":"member_left","room":"' .. ARGV[2] .. '","member":' .. member .. '}')
return 1
