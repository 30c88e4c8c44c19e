-- Prepended to append.lua and append-batch.lua (scripts.ts): numbers, stores and publishes one
-- room message, atomically: the order of PUBLISH is the order of the offsets, on every instance.
-- A resend with a known idempotency key changes nothing and answers what the first one was stored as.
--
-- meta: the room's hash (epoch, top, rid)   log: its stream   idem: the idempotency key (the
-- sender's, or one the service made: every message has one, so a retry of the script stores
-- nothing twice)   size: HISTORY_SIZE   ttl: HISTORY_TTL_SEC   messageId (also the epoch, if this
-- message starts a new history)   head: the frame without its closing brace   channel, publish:
-- where and with what (PUBLISH, or SPUBLISH on a Redis Cluster)   seenEpoch, seenTop: the epoch the
-- sending instance saw last ('' for none) and its top offset there   keyTtl: how long the
-- idempotency key is kept   stamping: whether the sender acknowledges without replicas
-- (HISTORY_MIN_REPLICAS=0), so that the offset it takes must be stamped with this Redis's history
--
-- Returns {stored (1) or duplicate (0), messageId, offset, epoch}.

-- The stamp is the replication ID of the Redis that numbered the room (thisHistory, history-epoch.lua).

local function appendOne (meta, log, idem, size, ttl, messageId, head, channel, publish, seenEpoch, seenTop, keyTtl, stamping)
  -- A message that starts a new history names it. The start expires like a history: a resend
  -- answered below returns before this message's EXPIRE.
  -- Any stamp it leaves is this Redis's own: a room stamped by another history moved to a new epoch.
  local epoch, stamp = historyEpoch(meta, log, messageId, ttl)
  -- The sender's instance saw more of this epoch than Redis holds: never hand its offsets out again.
  if rolledBack(meta, epoch, seenEpoch, seenTop) then
    epoch = startHistory(meta, log, messageId, ttl)
    stamp = thisHistory()
  end

  if idem then
    local seen = redis.call('GET', idem)
    if seen then
      local seenKeyEpoch, seenOffset, seenId = string.match(seen, '^(%S+) (%d+) (%S+)$')
      -- A key names an offset this copy held (key and meta are written together): of this epoch,
      -- or of the one this copy left for it (a resend across the move to a new epoch is answered
      -- as first stored, not stored again). A key of an older, lost history no longer counts.
      if seenKeyEpoch == epoch or seenKeyEpoch == redis.call('HGET', meta, 'prev') then
        return {0, seenId, tonumber(seenOffset), seenKeyEpoch}
      end
    end
  end

  local top = redis.call('HINCRBY', meta, 'top', 1)
  -- Written (and replicated) only when it changes: once per room and history.
  if stamping then
    if stamp ~= thisHistory() then redis.call('HSET', meta, 'rid', thisHistory()) end
  elseif stamp then
    -- A stamp of this history (another one moved the room above), left by the start of the epoch
    -- (a read, or this very append) or by a sender without replicas: from here on the room's top is
    -- on the replicas, so a failover must keep its epoch, as it does for an unstamped durable room.
    redis.call('HDEL', meta, 'rid')
  end
  local frame = head .. ',"offset":' .. top .. ',"epoch":"' .. epoch .. '"}'
  redis.call('XADD', log, 'MAXLEN', size, top .. '-0', 'f', frame)
  redis.call('EXPIRE', meta, ttl)
  redis.call('EXPIRE', log, ttl)
  if idem then redis.call('SET', idem, epoch .. ' ' .. top .. ' ' .. messageId, 'EX', keyTtl) end
  -- Receivers read offset and epoch from this header without parsing the frame.
  redis.call(publish, channel, '=' .. top .. ' ' .. epoch .. '\n' .. frame)
  return {1, messageId, top, epoch}
end
