-- Adds one connection to a room's presence and, when it was not there yet, tells the room: one
-- script on the room's slot, so the event takes its place among the room's messages exactly where
-- the entry appears. Re-asserting an entry that is there already (after a reconnect) says nothing.
--
-- KEYS[1] the room's presence hash
-- ARGV[1] connectionId   ARGV[2] the member as JSON {"connectionId","user"}   ARGV[3] room name
-- ARGV[4] room channel   ARGV[5] the command that publishes on it: PUBLISH, or SPUBLISH on a cluster
--
-- Returns 1 when the entry is new, else 0.
if redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
-- `~connectionId\n` first: receivers skip that connection without parsing the frame (member-payload.ts).
redis.call(ARGV[5], ARGV[4], '~' .. ARGV[1] .. '\n{"type":"member_joined","room":"' .. ARGV[3] .. '","member":' .. ARGV[2] .. '}')
return 1
