-- Prepended to each history script when it is loaded (scripts.ts): the room's epoch, starting a new
-- history when there is none (it expired, Redis was flushed or restarted without its data, or the
-- key was evicted). A new history starts empty: a log left from a lost one must not be replayed.
-- `ttl` makes the new epoch expire like a history would (readers create it before any message).
-- The meta starts over too: a new epoch has numbered nothing, so no Redis history has stamped it
-- (`rid`, append-one.lua). It keeps the epoch it replaces (`prev`): an idempotency key of that
-- epoch names a message this copy held, which a resend must not store a second time.
local function startHistory (meta, log, newEpoch, ttl)
  local prev = redis.call('HGET', meta, 'epoch')
  redis.call('DEL', meta, log)
  if prev then
    redis.call('HSET', meta, 'epoch', newEpoch, 'top', 0, 'prev', prev)
  else
    redis.call('HSET', meta, 'epoch', newEpoch, 'top', 0)
  end
  if ttl then redis.call('EXPIRE', meta, ttl) end
  return newEpoch
end

local function historyEpoch (meta, log, newEpoch, ttl)
  local epoch = redis.call('HGET', meta, 'epoch')
  if epoch then return epoch end
  return startHistory(meta, log, newEpoch, ttl)
end

-- True when an instance saw offset `seenTop` of `seenEpoch` but the room is in that epoch below it:
-- Redis lost messages it had acknowledged (a failover to a replica that missed them, a restart
-- from an older snapshot), and the next offsets would name a second message each.
local function rolledBack (meta, epoch, seenEpoch, seenTop)
  return seenEpoch == epoch and tonumber(redis.call('HGET', meta, 'top')) < tonumber(seenTop)
end
