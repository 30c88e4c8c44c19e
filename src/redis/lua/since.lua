-- A room's position (epoch, top offset) and, when asked, one page of the messages after a client's
-- position. Creates the history's epoch when there is none (history-epoch.lua), so that a `since`
-- taken from an empty room's `joined` recovers everything its first message starts.
--
-- A replay is read a page per call (redis-history.ts calls again from the page's last offset):
-- one call never copies more than a page, so a long replay (HISTORY_SIZE up to 100000) never holds
-- Redis for the whole range, and each page checks the epoch and the trim again.
--
-- KEYS[1] meta hash   KEYS[2] log stream
-- ARGV[1] epoch for a new history   ARGV[2] HISTORY_TTL_SEC
-- ARGV[3] the client's offset ('' for the position only)   ARGV[4] the client's epoch
-- ARGV[5] the last offset wanted ('' for the top)   ARGV[6] page size in messages
-- ARGV[7] page size in bytes (the page ends with the first message that reaches it)
--
-- Returns {epoch, top, recovered (1/0), frames...}: recovered only when the epoch matches and the
-- log still holds every message after the offset up to the page's end; frames only then, at least
-- one of them unless nothing is wanted.
local meta, log = KEYS[1], KEYS[2]

local epoch = historyEpoch(meta, log, ARGV[1], ARGV[2])
local top = tonumber(redis.call('HGET', meta, 'top'))
if ARGV[3] == '' then return {epoch, top, 0} end

local from = tonumber(ARGV[3])
if ARGV[4] ~= epoch or from > top then return {epoch, top, 0} end
local last = top
if ARGV[5] ~= '' and tonumber(ARGV[5]) < top then last = tonumber(ARGV[5]) end
if from >= last then return {epoch, top, 1} end

-- Read in small steps, so that a page of large messages stops at its byte budget without having
-- copied the rest of its message count first.
local STEP = 32
local want = math.min(last - from, tonumber(ARGV[6]))
local budget = tonumber(ARGV[7])
local reply = {epoch, top, 1}
local got, bytes, next = 0, 0, from + 1
while got < want and bytes < budget do
  local step = math.min(STEP, want - got)
  local entries = redis.call('XRANGE', log, next .. '-0', (next + step - 1) .. '-0')
  -- Every message wanted must be there: the first not trimmed, none missing after it.
  if #entries ~= step or entries[1][1] ~= next .. '-0' then return {epoch, top, 0} end
  for i = 1, step do
    local frame = entries[i][2][2]
    got = got + 1
    reply[got + 3] = frame
    bytes = bytes + #frame
    if bytes >= budget then break end
  end
  next = from + got + 1
end
return reply
