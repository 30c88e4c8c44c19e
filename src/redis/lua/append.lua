-- One room message (appendOne, append-one.lua): what the server API and the tests send alone.
--
-- KEYS[1] meta hash (epoch, top)   KEYS[2] log stream   KEYS[3] idempotency key
-- ARGV[1] HISTORY_SIZE   ARGV[2] HISTORY_TTL_SEC   ARGV[3] messageId   ARGV[4] the frame without
-- its closing brace   ARGV[5] channel   ARGV[6] PUBLISH or SPUBLISH   ARGV[7] the epoch the sending
-- instance saw last ('' for none)   ARGV[8] its top offset there   ARGV[9] the idempotency key's TTL (s)
--
-- Returns {stored (1) or duplicate (0), messageId, offset, epoch}.
return appendOne(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
