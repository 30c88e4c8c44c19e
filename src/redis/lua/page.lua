-- The last `limit` stored messages of a room with offsets below `before`, oldest first, with the
-- room's position. Creates the epoch of an empty room, as since.lua does.
--
-- KEYS[1] meta hash   KEYS[2] log stream
-- ARGV[1] epoch for a new history   ARGV[2] HISTORY_TTL_SEC   ARGV[3] limit   ARGV[4] before ('' for none)
--
-- Returns {epoch, top, frames...}.
local meta, log = KEYS[1], KEYS[2]

local epoch = historyEpoch(meta, log, ARGV[1], ARGV[2])
local top = tonumber(redis.call('HGET', meta, 'top'))
local reply = {epoch, top}

-- Stream ids are `offset-0`; an end id of just `N` covers `N-0`.
local last = '+'
if ARGV[4] ~= '' then
  local below = tonumber(ARGV[4]) - 1
  if below < 1 then return reply end
  -- Above the top it changes nothing, and Lua would print a large one as `1e+14`: no stream id.
  if below < (top or 0) then last = tostring(below) end
end
local entries = redis.call('XREVRANGE', log, last, '-', 'COUNT', ARGV[3])
for i = #entries, 1, -1 do reply[#reply + 1] = entries[i][2][2] end
return reply
