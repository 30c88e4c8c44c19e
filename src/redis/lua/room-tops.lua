-- Where each of many rooms stands (epoch, top offset), in one call per Redis Cluster shard: the
-- rooms' meta hashes sit on many slots of this shard, so the flag lets the script read keys of
-- several slots (Redis 7). Only KEYS[1] is declared (it routes the call); the caller groups the
-- rooms by the shard that owns them, and falls back to one read per room if a slot moved meanwhile.
-- A room with no history gets its epoch now, as a join's `since` read does (history-epoch.lua).
--
-- KEYS[1] one of the rooms' meta hash (routing)   ARGV[1] HISTORY_TTL_SEC
-- then triples: meta hash, log stream, a fresh epoch for a room with no history
-- Returns epoch, top, epoch, top, ... in the order of the triples.
local ttl = ARGV[1]
local out = {}
for i = 2, #ARGV, 3 do
  local meta, log = ARGV[i], ARGV[i + 1]
  local epoch = historyEpoch(meta, log, ARGV[i + 2], ttl)
  table.insert(out, epoch)
  table.insert(out, tonumber(redis.call('HGET', meta, 'top')) or 0)
end
return out
