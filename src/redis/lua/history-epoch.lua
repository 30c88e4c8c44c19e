-- Prepended to each history script when it is loaded (scripts.ts): the room's epoch, starting a new
-- history when there is none (it expired, Redis was flushed or restarted without its data, or the
-- key was evicted). A new history starts empty: a log left from a lost one must not be replayed.
-- `ttl` makes the new epoch expire like a history would (readers create it before any message).

-- The replication ID of the master running the script (INFO replication's master_replid), read
-- inside the script and not passed in: an argument would be fetched by the instance at some
-- earlier (re)connect, and a command queued across a reconnect, or redirected by a Cluster, could
-- then run on another Redis while naming the one the meta was stamped by: the very case to catch.
-- Read at most once per script call (a group commit's many messages share it), and only when needed:
-- when a history starts (rare), or when a script finds a stamp or an append stamps one.
--
-- The replication ID rather than run_id: it names the history of the data, not the process. Both
-- change on every restart (a master restarted from its files gets a new replication ID) and differ
-- on a promoted replica (promotion gives it a new one). But a process whose data is replaced by a
-- full sync keeps its run_id: a master that falls behind, is made a replica of the promoted one
-- (which never appended to the room), and is promoted back would find the room's meta stamped
-- with its own run_id over a copy that lost offsets. Its replication ID changed at each step.
local replicationId = nil
local function thisHistory ()
  if replicationId == nil then
    -- Never a guess: without it every stamped room would look moved, and move at every message.
    replicationId = string.match(redis.call('INFO', 'replication'), 'master_replid:(%x+)') or error('INFO replication has no master_replid')
  end
  return replicationId
end

-- The meta starts over too, stamped (`rid`, append-one.lua) with the history of the Redis that
-- starts it, whoever starts it: a reader too (since, page, room-tops). Unstamped, an epoch begun
-- at top 0 by a read would look, after a restart from a snapshot taken before its first message,
-- like a room of an older version, and the next append would number offset 1 of it a second time.
-- A durable append removes a stamp of its own history (append-one.lua). It keeps the epoch it
-- replaces (`prev`): an idempotency key of that epoch names a message this copy held, which a
-- resend must not store a second time.
local function startHistory (meta, log, newEpoch, ttl)
  local prev = redis.call('HGET', meta, 'epoch')
  redis.call('DEL', meta, log)
  if prev then
    redis.call('HSET', meta, 'epoch', newEpoch, 'top', 0, 'rid', thisHistory(), 'prev', prev)
  else
    redis.call('HSET', meta, 'epoch', newEpoch, 'top', 0, 'rid', thisHistory())
  end
  if ttl then redis.call('EXPIRE', meta, ttl) end
  return newEpoch
end

-- The room's epoch, starting a new one when there is none, or when the room is stamped (`rid`) by
-- another history than this Redis's own: this Redis restarted (from an older snapshot, maybe), or is
-- a promoted replica, or the room's keys were moved here (a Cluster slot migration). What that
-- history numbered after what this copy holds is lost if it numbered anything, and nothing here
-- tells: an instance that never saw those offsets would hand them out again (an append), and one
-- that did, and had moved on to a later epoch since, would take this copy for a new history and
-- deliver its messages a second time (a read: a snapshot can hold an epoch the room had already
-- left). So readers and appends alike leave it for a new epoch, stamped with this history.
-- Only senders that acknowledge without replicas keep a stamp (append-one.lua).
-- Returns the epoch and the room's stamp after that (false: none).
local function historyEpoch (meta, log, newEpoch, ttl)
  local epoch = redis.call('HGET', meta, 'epoch')
  if not epoch then return startHistory(meta, log, newEpoch, ttl), thisHistory() end
  local stamp = redis.call('HGET', meta, 'rid')
  if stamp and stamp ~= thisHistory() then return startHistory(meta, log, newEpoch, ttl), thisHistory() end
  return epoch, stamp
end

-- True when an instance saw offset `seenTop` of `seenEpoch` but the room is in that epoch below it:
-- Redis lost messages it had acknowledged (a failover to a replica that missed them, a restart
-- from an older snapshot), and the next offsets would name a second message each.
local function rolledBack (meta, epoch, seenEpoch, seenTop)
  return seenEpoch == epoch and tonumber(redis.call('HGET', meta, 'top')) < tonumber(seenTop)
end
