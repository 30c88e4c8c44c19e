-- Prepended to append.lua and append-batch.lua (scripts.ts): numbers, stores and publishes one
-- room message, atomically: the order of PUBLISH is the order of the offsets, on every instance.
-- A resend with a known idempotency key changes nothing and answers what the first one was stored as.
--
-- meta: the room's hash (epoch, top)   log: its stream   idem: the idempotency key (the sender's,
-- or one the service made: every message has one, so a retry of the script stores nothing twice)
-- size: HISTORY_SIZE   ttl: HISTORY_TTL_SEC   messageId (also the epoch, if this message starts a
-- new history)   head: the frame without its closing brace   channel, publish: where and with what
-- (PUBLISH, or SPUBLISH on a Redis Cluster)   seenEpoch, seenTop: the epoch the sending instance
-- saw last ('' for none) and its top offset there   keyTtl: how long the idempotency key is kept
--
-- Returns {stored (1) or duplicate (0), messageId, offset, epoch}.
local function appendOne (meta, log, idem, size, ttl, messageId, head, channel, publish, seenEpoch, seenTop, keyTtl)
  -- A message that starts a new history names it.
  local epoch = historyEpoch(meta, log, messageId, nil)
  -- The sender's instance saw more of this epoch than Redis holds: never hand its offsets out again.
  if rolledBack(meta, epoch, seenEpoch, seenTop) then epoch = startHistory(meta, log, messageId, nil) end

  if idem then
    local seen = redis.call('GET', idem)
    if seen then
      local seenKeyEpoch, seenOffset, seenId = string.match(seen, '^(%S+) (%d+) (%S+)$')
      -- A key of a lost history names an offset of another epoch: it no longer counts.
      if seenKeyEpoch == epoch then return {0, seenId, tonumber(seenOffset), epoch} end
    end
  end

  local top = redis.call('HINCRBY', meta, 'top', 1)
  local frame = head .. ',"offset":' .. top .. ',"epoch":"' .. epoch .. '"}'
  redis.call('XADD', log, 'MAXLEN', size, top .. '-0', 'f', frame)
  redis.call('EXPIRE', meta, ttl)
  redis.call('EXPIRE', log, ttl)
  if idem then redis.call('SET', idem, epoch .. ' ' .. top .. ' ' .. messageId, 'EX', keyTtl) end
  -- Receivers read offset and epoch from this header without parsing the frame.
  redis.call(publish, channel, '=' .. top .. ' ' .. epoch .. '\n' .. frame)
  return {1, messageId, top, epoch}
end
