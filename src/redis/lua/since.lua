-- A room's position (epoch, top offset) and, when asked, the messages after a client's position.
-- Creates the history's epoch when there is none (history-epoch.lua), so that a `since` taken from an empty room's
-- `joined` recovers everything its first message starts.
--
-- KEYS[1] meta hash   KEYS[2] log stream
-- ARGV[1] epoch for a new history   ARGV[2] HISTORY_TTL_SEC
-- ARGV[3] the client's offset ('' for the position only)   ARGV[4] the client's epoch
--
-- Returns {epoch, top, recovered (1/0), frames...}: recovered only when the epoch matches and the
-- log still holds every message after the offset; frames only then.
local meta, log = KEYS[1], KEYS[2]

local epoch = historyEpoch(meta, log, ARGV[1], ARGV[2])
local top = tonumber(redis.call('HGET', meta, 'top'))
if ARGV[3] == '' then return {epoch, top, 0} end

local from = tonumber(ARGV[3])
if ARGV[4] ~= epoch or from > top then return {epoch, top, 0} end
if from == top then return {epoch, top, 1} end

local entries = redis.call('XRANGE', log, (from + 1) .. '-0', '+', 'COUNT', top - from)
-- The first message wanted must be there (not trimmed), and every one after it.
if #entries ~= top - from or entries[1][1] ~= (from + 1) .. '-0' then return {epoch, top, 0} end
local reply = {epoch, top, 1}
for i = 1, #entries do reply[i + 3] = entries[i][2][2] end
return reply
