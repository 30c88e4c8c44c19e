-- Moves a room that rolled back below what an instance delivered to a new epoch (see rolledBack in
-- history-epoch.lua). Another instance may have done it already: then the epoch differs, and
-- nothing changes.
--
-- KEYS[1] meta hash   KEYS[2] log stream
-- ARGV[1] the epoch seen   ARGV[2] the offset seen in it   ARGV[3] the new epoch   ARGV[4] HISTORY_TTL_SEC
--
-- Returns 1 when it moved the room, else 0.
local meta, log = KEYS[1], KEYS[2]
if not rolledBack(meta, redis.call('HGET', meta, 'epoch'), ARGV[1], ARGV[2]) then return 0 end
startHistory(meta, log, ARGV[3], ARGV[4])
return 1
