-- read.lua: raise a reader's read horizon, never down nor past the log.
-- KEYS[1] the session's read hash   KEYS[2] the session's seq string
-- ARGV[1] reader ("customer", "agent:{id}")   ARGV[2] seq
-- Returns {horizon after, 1 if it rose else 0}.
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local seq = tonumber(ARGV[2])
if seq <= cur or seq > tonumber(redis.call('GET', KEYS[2]) or '0') then
  return {cur, 0}
end
redis.call('HSET', KEYS[1], ARGV[1], seq)
return {seq, 1}
