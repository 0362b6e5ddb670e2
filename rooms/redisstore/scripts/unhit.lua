-- Takes one hit back from a live login counter (Counters.Unhit).
-- KEYS[1]: the counter. No ARGV.
-- DECR alone would turn an expired counter into -1 with no window.
local n = tonumber(redis.call('GET', KEYS[1]))
if n and n > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
