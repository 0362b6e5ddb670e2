-- commit.lua: write a session record and append its events to the room
-- log in one atomic step (a lifecycle change and its event land together).
-- KEYS[1] session hash (v = version, d = JSON)   KEYS[2] seq string
-- KEYS[3] log stream                              KEYS[4] meta hash (epoch)
-- KEYS[5] once zset (commit name -> its last seq)  KEYS[6] rate (GCRA: next allowed ms)
-- ARGV[1] expected version (0: the session must not exist)
-- ARGV[2] session JSON, written with version ARGV[1]+1
-- ARGV[3] epoch to set if the log is new   ARGV[4] pub/sub channel
-- ARGV[5] "1" to SPUBLISH (Redis Cluster)  ARGV[6] max events (0: no cap)
-- ARGV[7] commit name ("" : none)          ARGV[8] rate interval ms (0: no limit)
-- ARGV[9] rate burst                       ARGV[10] names kept   ARGV[11] names' life ms
-- ARGV[12..17] the write gate append.lua reads: state, access mode after
--          the end, access until (unix ms), customer name, agent, team
-- ARGV[18] updated flag: "1" set it, "clear" clear it, "" leave it
-- ARGV[19] updated at, ARGV[20] last agent action (unix ms): kept at the
--          later of the stored and the given, so a commit built from an
--          older read never moves them back past a message's
-- ARGV[21..] event JSONs without seq, each starting with '{'
-- Returns {0, last seq} once committed, {1, seq} when the name already
-- committed (nothing changes), or an error reply CONFLICT / ROOM_FULL /
-- RATE_LIMITED <retry after ms>.
local name = ARGV[7]
if name ~= '' then
  local prev = redis.call('ZSCORE', KEYS[5], name)
  if prev then
    -- A write, so that a WAIT after this repeat also covers the first.
    redis.call('PEXPIRE', KEYS[5], ARGV[11])
    return {1, tonumber(prev)}
  end
end
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if cur ~= tonumber(ARGV[1]) then
  return redis.error_reply('CONFLICT')
end
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local n = #ARGV - 20
local max = tonumber(ARGV[6])
if max > 0 and seq + n > max then
  return redis.error_reply('ROOM_FULL')
end
local every = tonumber(ARGV[8])
if every > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local tat = tonumber(redis.call('GET', KEYS[6]) or '0')
  if tat < now then tat = now end
  local tolerance = every * (tonumber(ARGV[9]) - 1)
  if tat - now > tolerance then
    return redis.error_reply('RATE_LIMITED ' .. (tat - now - tolerance))
  end
  redis.call('SET', KEYS[6], tat + every, 'PX', tat + every - now)
end
redis.call('HSET', KEYS[1], 'v', cur + 1, 'd', ARGV[2], 'st', ARGV[12], 'am', ARGV[13], 'au', ARGV[14],
  'cn', ARGV[15], 'ag', ARGV[16], 'tm', ARGV[17])
if ARGV[18] == '1' then
  redis.call('HSET', KEYS[1], 'up', '1')
elseif ARGV[18] == 'clear' then
  redis.call('HSET', KEYS[1], 'up', '0')
end
for i, f in ipairs({'ua', 'la'}) do
  if tonumber(redis.call('HGET', KEYS[1], f) or '0') < tonumber(ARGV[18 + i]) then
    redis.call('HSET', KEYS[1], f, ARGV[18 + i])
  end
end
redis.call('HSETNX', KEYS[4], 'epoch', ARGV[3])
local publish = 'PUBLISH'
if ARGV[5] == '1' then publish = 'SPUBLISH' end
for i = 21, #ARGV do
  seq = redis.call('INCR', KEYS[2])
  local event = '{"seq":' .. seq .. ',' .. string.sub(ARGV[i], 2)
  redis.call('XADD', KEYS[3], seq .. '-0', 'e', event)
  redis.call(publish, ARGV[4], event)
end
if name ~= '' then
  redis.call('ZADD', KEYS[5], seq, name)
  redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -(tonumber(ARGV[10]) + 1))
  redis.call('PEXPIRE', KEYS[5], ARGV[11])
end
return {0, seq}
