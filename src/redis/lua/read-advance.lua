-- Moves one user's read cursors forward, atomically: two sockets racing `read` frames, or a
-- `read` racing the user's own message, can never move a cursor back.
--
-- KEYS[1] the user's cursors hash (field: room, value: "epoch offset")
-- ARGV[1] READ_STATE_TTL_SEC   then triples: ARGV[2+3i] room, ARGV[3+3i] epoch, ARGV[4+3i] offset
--
-- A cursor of another epoch is replaced: that history is gone, and its offsets mean nothing now.
-- Returns, per triple, {moved (1) or not (0), the stored offset after, the stored epoch after}.
local cursors, ttl = KEYS[1], ARGV[1]
local out = {}
local changed = false
for i = 2, #ARGV, 3 do
  local room, epoch, offset = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local stored = redis.call('HGET', cursors, room)
  local storedEpoch, storedOffset
  if stored then
    storedEpoch, storedOffset = string.match(stored, '^(%S+) (%d+)$')
    storedOffset = tonumber(storedOffset)
  end
  if storedEpoch == epoch and storedOffset >= offset then
    table.insert(out, {0, storedOffset, epoch})
  else
    redis.call('HSET', cursors, room, epoch .. ' ' .. offset)
    changed = true
    table.insert(out, {1, offset, epoch})
  end
end
if changed then redis.call('EXPIRE', cursors, ttl) end
return out
