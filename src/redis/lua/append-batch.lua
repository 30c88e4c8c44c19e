-- Group commit: the room messages an instance got in one event-loop turn, of any rooms of one Redis
-- (of one hash slot on a Cluster), appended in one call, each exactly as append.lua would
-- (appendOne, append-one.lua), in the order given: a room's messages keep their order.
-- Each message runs under pcall: one that fails (a key of the wrong type, ...) fails alone; the
-- writes it made before failing stay, as they would after a failed append.lua.
--
-- KEYS: for each message, 3 keys: its room's meta hash, log stream, idempotency key
-- ARGV[1] HISTORY_SIZE   ARGV[2] HISTORY_TTL_SEC   ARGV[3] PUBLISH or SPUBLISH   ARGV[4] 1 when the
-- sender acknowledges without replicas (HISTORY_MIN_REPLICAS=0): the offsets it takes are stamped
-- with this Redis's history (append-one.lua), else 0
-- then for each message, 6 arguments: messageId, frame without its closing brace, room channel,
-- epoch seen ('' for none), top offset seen there, the idempotency key's TTL (s)
--
-- Returns 4 entries per message: {1 stored or 0 duplicate, messageId, offset, epoch}, or
-- {-1, the error's text, 0, ''} for a message that failed.
local size, ttl, publish = ARGV[1], ARGV[2], ARGV[3]
local stamping = ARGV[4] == '1'
local out = {}
local n = #KEYS / 3
for i = 0, n - 1 do
  local k, a = 3 * i, 4 + 6 * i
  local ok, reply = pcall(appendOne, KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], size, ttl,
    ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], publish, ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], stamping)
  local base = 4 * i
  if ok then
    out[base + 1], out[base + 2], out[base + 3], out[base + 4] = reply[1], reply[2], reply[3], reply[4]
  else
    local text = type(reply) == 'table' and (reply.err or 'error') or tostring(reply)
    out[base + 1], out[base + 2], out[base + 3], out[base + 4] = -1, text, 0, ''
  end
end
return out
