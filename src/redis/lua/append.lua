-- Numbers, stores and publishes one room message, atomically: the order of PUBLISH is the order of
-- the offsets, on every instance. A resend with a known idempotency key changes nothing and
-- answers what the first one was stored as.
--
-- KEYS[1] meta hash (epoch, top)   KEYS[2] log stream   KEYS[3] idempotency key (the sender's, or
-- one the service made: every message has one, so a retry of this script stores nothing twice)
-- ARGV[1] HISTORY_SIZE   ARGV[2] HISTORY_TTL_SEC   ARGV[3] messageId (also the epoch, if this
-- message starts a new history)   ARGV[4] the frame without its closing brace   ARGV[5] channel
-- ARGV[6] the command that publishes on it: PUBLISH, or SPUBLISH on a Redis Cluster
-- ARGV[7] the epoch the sending instance saw last ('' for none)   ARGV[8] its top offset there
-- ARGV[9] how long the idempotency key is kept (seconds)
--
-- Returns {stored (1) or duplicate (0), messageId, offset, epoch}.
local meta, log, idem = KEYS[1], KEYS[2], KEYS[3]
local size, ttl, messageId = ARGV[1], ARGV[2], ARGV[3]

-- A message that starts a new history names it.
local epoch = historyEpoch(meta, log, messageId, nil)
-- The sender's instance saw more of this epoch than Redis holds: never hand its offsets out again.
if rolledBack(meta, epoch, ARGV[7], ARGV[8]) then epoch = startHistory(meta, log, messageId, nil) end

if idem then
  local seen = redis.call('GET', idem)
  if seen then
    local seenEpoch, seenOffset, seenId = string.match(seen, '^(%S+) (%d+) (%S+)$')
    -- A key of a lost history names an offset of another epoch: it no longer counts.
    if seenEpoch == epoch then return {0, seenId, tonumber(seenOffset), epoch} end
  end
end

local top = redis.call('HINCRBY', meta, 'top', 1)
local frame = ARGV[4] .. ',"offset":' .. top .. ',"epoch":"' .. epoch .. '"}'
redis.call('XADD', log, 'MAXLEN', size, top .. '-0', 'f', frame)
redis.call('EXPIRE', meta, ttl)
redis.call('EXPIRE', log, ttl)
if idem then redis.call('SET', idem, epoch .. ' ' .. top .. ' ' .. messageId, 'EX', ARGV[9]) end
-- Receivers read offset and epoch from this header without parsing the frame.
redis.call(ARGV[6], ARGV[5], '=' .. top .. ' ' .. epoch .. '\n' .. frame)
return {1, messageId, top, epoch}
