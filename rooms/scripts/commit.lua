-- commit.lua: write a session record and append its events to the room
-- log in one atomic step (a lifecycle change and its event land together).
-- KEYS[1] session hash (v = version, d = JSON)   KEYS[2] seq string
-- KEYS[3] log stream                              KEYS[4] meta hash (epoch)
-- ARGV[1] expected version (0: the session must not exist)
-- ARGV[2] session JSON, written with version ARGV[1]+1
-- ARGV[3] epoch to set if the log is new   ARGV[4] pub/sub channel
-- ARGV[5] "1" to SPUBLISH (Redis Cluster)  ARGV[6] max events (0: no cap)
-- ARGV[7..] event JSONs without seq, each starting with '{'
-- Returns the last seq after the commit, or an error reply CONFLICT / ROOM_FULL.
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if cur ~= tonumber(ARGV[1]) then
  return redis.error_reply('CONFLICT')
end
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local n = #ARGV - 6
local max = tonumber(ARGV[6])
if max > 0 and seq + n > max then
  return redis.error_reply('ROOM_FULL')
end
redis.call('HSET', KEYS[1], 'v', cur + 1, 'd', ARGV[2])
redis.call('HSETNX', KEYS[4], 'epoch', ARGV[3])
local publish = 'PUBLISH'
if ARGV[5] == '1' then publish = 'SPUBLISH' end
for i = 7, #ARGV do
  seq = redis.call('INCR', KEYS[2])
  local event = '{"seq":' .. seq .. ',' .. string.sub(ARGV[i], 2)
  redis.call('XADD', KEYS[3], seq .. '-0', 'e', event)
  redis.call(publish, ARGV[4], event)
end
return seq
