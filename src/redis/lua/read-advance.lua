-- Moves one user's read cursors forward, atomically: two sockets racing `read` frames, or a
-- `read` racing the user's own message, can never move a cursor back.
--
-- KEYS[1] the user's cursors hash (field: room, value: "epoch offset")
-- ARGV[1] READ_STATE_TTL_SEC   then triples: ARGV[2+3i] room, ARGV[3+3i] epoch, ARGV[4+3i] offset
--
-- A cursor of another epoch is replaced (moveForward).
-- Returns, per triple, {moved (1) or not (0), the stored offset after, the stored epoch after}.
local cursors, ttl = KEYS[1], ARGV[1]
local out = {}
local changed = false
for i = 2, #ARGV, 3 do
  local epoch = ARGV[i + 1]
  local moved, offset = moveForward(cursors, ARGV[i], epoch, tonumber(ARGV[i + 2]))
  if moved then changed = true end
  table.insert(out, {moved and 1 or 0, offset, epoch})
end
if changed then redis.call('EXPIRE', cursors, ttl) end
return out
