-- Every member of a room (count) and at most `limit` of them (as JSON), from the room's presence hash.
--
-- KEYS[1] the room's presence hash   ARGV[1] limit
--
-- Returns {count, member JSON...}.
local count = redis.call('HLEN', KEYS[1])
local limit = tonumber(ARGV[1])
local reply = {count}
if count <= limit then
  local values = redis.call('HVALS', KEYS[1])
  for i = 1, #values do reply[i + 1] = values[i] end
  return reply
end
-- A large room: walk the hash only as far as the limit needs.
local cursor = '0'
repeat
  local page = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', limit)
  cursor = page[1]
  for i = 2, #page[2], 2 do
    if #reply > limit then return reply end
    reply[#reply + 1] = page[2][i]
  end
until cursor == '0'
return reply
