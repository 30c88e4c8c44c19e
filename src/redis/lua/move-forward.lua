-- Prepended to read-advance.lua and read-receipt.lua: their one compare-and-set.
-- Moves the position "epoch offset" kept in `field` of hash `key` to (epoch, offset), unless it
-- is at or past it in the same epoch. A position of another epoch is replaced: that history is
-- gone, and its offsets mean nothing now. Returns whether it moved, and the offset kept after.
local function moveForward(key, field, epoch, offset)
  local stored = redis.call('HGET', key, field)
  if stored then
    local storedEpoch, storedOffset = string.match(stored, '^(%S+) (%d+)$')
    storedOffset = tonumber(storedOffset)
    if storedEpoch == epoch and storedOffset >= offset then return false, storedOffset end
  end
  redis.call('HSET', key, field, epoch .. ' ' .. offset)
  return true, offset
end
