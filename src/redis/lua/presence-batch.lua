-- Presence's group commit: the joins and leaves an instance got in one event-loop turn, of any
-- rooms of one Redis (of one hash slot on a Cluster), in one call, in the order given. A join is
-- presence-renew.lua for one room with one lease and no expiry; a leave is presence-leave.lua. Each runs under
-- pcall: one that fails fails alone.
--
-- KEYS: for each change, its room's presence hash and leases zset
-- ARGV[1] lease length (ms)   ARGV[2] PUBLISH or SPUBLISH
-- then for each change, 5 arguments: 'j' (join) or 'l' (leave), room name, room channel,
-- connectionId, the member as JSON {"connectionId","user"} ('' for a leave)
--
-- Returns 3 entries per change: {1, 1 if it changed the room (announced) else 0, ms until the
-- room's earliest lease expires (-1: none left, or a leave)}, or {-1, the error's text, -1}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lease = tonumber(ARGV[1])
local publish = ARGV[2]

local function join (presence, leases, room, channel, id, member)
  redis.call('ZADD', leases, now + lease, id)
  local added = 0
  if redis.call('HSET', presence, id, member) == 1 then
    -- `~connectionId\n` first: receivers skip that connection without parsing the frame (member-payload.ts).
    redis.call(publish, channel, '~' .. id .. '\n{"type":"member_joined","room":"' .. room .. '","member":' .. member .. '}')
    added = 1
  end
  redis.call('PEXPIRE', presence, 2 * lease)
  redis.call('PEXPIRE', leases, 2 * lease)
  local earliest = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
  local untilEarliest = -1
  if earliest[2] then untilEarliest = math.max(0, tonumber(earliest[2]) - now) end
  return {1, added, untilEarliest}
end

local function leave (presence, leases, room, channel, id)
  redis.call('ZREM', leases, id)
  local member = redis.call('HGET', presence, id)
  if not member then return {1, 0, -1} end
  redis.call('HDEL', presence, id)
  redis.call(publish, channel, '~' .. id .. '\n{"type":"member_left","room":"' .. room .. '","member":' .. member .. '}')
  return {1, 1, -1}
end

local out = {}
for i = 0, #KEYS / 2 - 1 do
  local k, a = 2 * i, 2 + 5 * i
  local ok, reply
  if ARGV[a + 1] == 'j' then
    ok, reply = pcall(join, KEYS[k + 1], KEYS[k + 2], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5])
  else
    ok, reply = pcall(leave, KEYS[k + 1], KEYS[k + 2], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4])
  end
  if not ok then reply = {-1, type(reply) == 'table' and (reply.err or 'error') or tostring(reply), -1} end
  out[3 * i + 1], out[3 * i + 2], out[3 * i + 3] = reply[1], reply[2], reply[3]
end
return out
