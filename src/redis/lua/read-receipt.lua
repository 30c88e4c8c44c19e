-- Publishes a read receipt on the room's channel, unless one of the same user, epoch and an equal
-- or higher offset was published before: receipts leave Redis in cursor order. Two instances
-- moving one user's cursor (two sockets racing `read` frames) publish after their cursor moves
-- answer, in whichever order their replies come back; this script, on the room's slot, is where
-- their order is decided, and every instance (the reader's too) delivers the receipt from Redis.
--
-- KEYS[1] the room's receipts hash (field: user, value: "epoch offset")
-- ARGV[1] its TTL (s)   ARGV[2] user   ARGV[3] epoch   ARGV[4] offset
-- ARGV[5] room channel  ARGV[6] PUBLISH, or SPUBLISH on a cluster   ARGV[7] the receipt frame
-- Returns 1 when published, 0 when a later receipt had gone out already.
if not moveForward(KEYS[1], ARGV[2], ARGV[3], tonumber(ARGV[4])) then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[1])
-- A member payload (src/redis/member-payload.ts) that excepts no connection: ids are never '*'.
redis.call(ARGV[6], ARGV[5], '~*\n' .. ARGV[7])
return 1
