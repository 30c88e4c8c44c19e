-- Puts connections into rooms' presence as leases, and removes the rooms' expired leases: a
-- heartbeat's renewal of many rooms in one call, of any rooms of one Redis (of one shard on a
-- Cluster: the script is flagged allow-cross-slot-keys, scripts.ts, and the caller groups the rooms
-- by the shard its slot map names; a room whose slot moved away fails alone and is retried in a
-- call of its own, routed by its own key: renewal.ts). Each room is changed on its own keys (the
-- presence hash and the leases zset of the room) and its own channel, so each event takes its
-- place among the room's messages exactly where the change happens. One call per room cost Redis more in the call than in the leases (an instance with
-- 10 000 rooms sent 10 000 scripts a beat); a room's leases may be split over several calls.
--
-- Each member is a lease: its connectionId scored by when it expires (Redis time, ms) in the
-- leases zset, its JSON in the hash. The instance that holds the connection renews the lease at
-- every heartbeat (this script with every local member of its rooms); a lease nobody renews
-- expires, and the next renewal of the room (any live instance's heartbeat) removes it with one
-- `member_left`. Removal is atomic, so however many instances run this at once, and whichever of
-- them dies half-way through its rooms, each expired lease yields exactly one `member_left`.
--
-- KEYS[1] the first room's presence hash: it routes the call on a Cluster (the rooms' keys are in ARGV)
-- ARGV[1] lease length (ms)   ARGV[2] '1' to remove the expired leases, '0' not to
-- ARGV[3] PUBLISH, or SPUBLISH on a cluster
-- then for each room: its presence hash, its leases zset, its name, its channel, the number of
-- leases N, then N pairs of connectionId and the member as JSON {"connectionId","user"}
--
-- Returns, for each room in turn: {leases that were new (each announced with member_joined),
-- expired leases removed, ms until the room's earliest lease expires (-1: none left), then the JSON
-- of each removed member (as many as removed)}, or {-1, the error's text} for a room that failed
-- (each room runs under pcall: it fails alone). A caller whose next renewal comes later runs this
-- again for the room (without leases) at that time, so that a lost member is announced when its
-- lease expires, not up to a heartbeat later.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lease = tonumber(ARGV[1])
local expire = ARGV[2] == '1'
local publish = ARGV[3]

-- The leases are ARGV[from], ..., ARGV[to - 1].
local function renewRoom (presence, leases, room, channel, from, to)
  local removed = {}
  if expire then
    -- At most this many per run: a huge backlog is worked off over the next heartbeats, never in
    -- one long script that would stall Redis.
    local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 1000)
    for _, id in ipairs(expired) do
      redis.call('ZREM', leases, id)
      local member = redis.call('HGET', presence, id)
      if member then
        redis.call('HDEL', presence, id)
        -- `~connectionId\n` first: receivers skip that connection without parsing the frame (member-payload.ts).
        redis.call(publish, channel, '~' .. id .. '\n{"type":"member_left","room":"' .. room .. '","member":' .. member .. '}')
        removed[#removed + 1] = member
      end
    end
  end

  local added = 0
  for i = from, to - 1, 2 do
    local id, member = ARGV[i], ARGV[i + 1]
    redis.call('ZADD', leases, now + lease, id)
    if redis.call('HSET', presence, id, member) == 1 then
      redis.call(publish, channel, '~' .. id .. '\n{"type":"member_joined","room":"' .. room .. '","member":' .. member .. '}')
      added = added + 1
    end
  end
  -- Abandoned keys expire: every lease is renewed or expired one lease length after its last write,
  -- and a room nobody renews any more has nobody left to tell.
  if to > from then
    redis.call('PEXPIRE', presence, 2 * lease)
    redis.call('PEXPIRE', leases, 2 * lease)
  end
  local earliest = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
  local untilEarliest = -1
  if earliest[2] then untilEarliest = math.max(0, tonumber(earliest[2]) - now) end
  return added, removed, untilEarliest
end

local out, o = {}, 0
local a = 4
while a <= #ARGV do
  local from = a + 5
  local to = from + 2 * tonumber(ARGV[a + 4])
  local ok, added, removed, untilEarliest = pcall(renewRoom, ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], from, to)
  if ok then
    out[o + 1], out[o + 2], out[o + 3] = added, #removed, untilEarliest
    for j = 1, #removed do out[o + 3 + j] = removed[j] end
    o = o + 3 + #removed
  else
    out[o + 1], out[o + 2] = -1, type(added) == 'table' and (added.err or 'error') or tostring(added)
    o = o + 2
  end
  a = to
end
return out
