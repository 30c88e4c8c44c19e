-- Puts connections into a room's presence as leases, and removes the room's expired leases: one
-- script on the room's slot (the presence hash and the leases zset of one room, the room's channel),
-- so each event takes its place among the room's messages exactly where the change happens.
--
-- Each member is a lease: its connectionId scored by when it expires (Redis time, ms) in the
-- leases zset, its JSON in the hash. The instance that holds the connection renews the lease at
-- every heartbeat (this script with every local member of the room); a lease nobody renews expires,
-- and the next run of this script in the room (any live instance's heartbeat) removes it with one
-- `member_left`. Removal is atomic, so however many instances run this at once, and whichever of
-- them dies half-way through its rooms, each expired lease yields exactly one `member_left`.
--
-- KEYS[1] the room's presence hash   KEYS[2] the room's leases zset
-- ARGV[1] lease length (ms)   ARGV[2] '1' to remove the expired leases, '0' not to
-- ARGV[3] room name   ARGV[4] room channel   ARGV[5] PUBLISH, or SPUBLISH on a cluster
-- ARGV[6], ARGV[7], ... connectionId, the member as JSON {"connectionId","user"}, for each lease to put
--
-- Returns {leases that were new (each announced with member_joined), expired leases removed, ms
-- until the room's earliest lease expires (-1: none left), then the JSON of each removed member}: a caller whose next run comes later
-- runs this again (without leases) at that time, so that a lost member is announced when its lease
-- expires, not up to a heartbeat later.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lease = tonumber(ARGV[1])
local room, channel, publish = ARGV[3], ARGV[4], ARGV[5]

local removed = 0
local removedMembers = {}
if ARGV[2] == '1' then
  -- At most this many per run: a huge backlog is worked off over the next heartbeats, never in one
  -- long script that would stall Redis.
  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(expired) do
    redis.call('ZREM', KEYS[2], id)
    local member = redis.call('HGET', KEYS[1], id)
    if member then
      redis.call('HDEL', KEYS[1], id)
      -- `~connectionId\n` first: receivers skip that connection without parsing the frame (member-payload.ts).
      redis.call(publish, channel, '~' .. id .. '\n{"type":"member_left","room":"' .. room .. '","member":' .. member .. '}')
      removed = removed + 1
      removedMembers[removed] = member
    end
  end
end

local added = 0
for i = 6, #ARGV - 1, 2 do
  local id, member = ARGV[i], ARGV[i + 1]
  redis.call('ZADD', KEYS[2], now + lease, id)
  if redis.call('HSET', KEYS[1], id, member) == 1 then
    redis.call(publish, channel, '~' .. id .. '\n{"type":"member_joined","room":"' .. room .. '","member":' .. member .. '}')
    added = added + 1
  end
end
-- Abandoned keys expire: every lease is renewed or expired one lease length after its last write,
-- and a room nobody renews any more has nobody left to tell.
if #ARGV >= 7 then
  redis.call('PEXPIRE', KEYS[1], 2 * lease)
  redis.call('PEXPIRE', KEYS[2], 2 * lease)
end
local earliest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local untilEarliest = -1
if earliest[2] then untilEarliest = math.max(0, tonumber(earliest[2]) - now) end
local reply = {added, removed, untilEarliest}
for i = 1, removed do reply[3 + i] = removedMembers[i] end
return reply
