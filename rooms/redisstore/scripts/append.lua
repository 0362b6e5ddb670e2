-- append.lua: log one chat message in one step, from the session's small
-- fields (its write gate and activity), never its whole record. It reads
-- the session hash once and writes it once: the fewer commands a
-- message costs, the more messages one Redis carries.
-- KEYS[1] session hash   KEYS[2] seq string   KEYS[3] log stream
-- KEYS[4] meta hash      KEYS[5] once zset
-- ARGV[1] role: "agent" or "customer"     ARGV[2] now (unix ms, the service's clock)
-- ARGV[3] epoch to set if the log is new  ARGV[4] pub/sub channel
-- ARGV[5] "1" to SPUBLISH                 ARGV[6] max events (0: no cap)
-- ARGV[7] commit name ("": none)          ARGV[8] rate interval ms (0: none)
-- ARGV[9] rate burst                      ARGV[10] names kept   ARGV[11] names' life ms
-- ARGV[12] "1": mark the session updated (a customer's message, no agent here)
-- ARGV[13] the event's JSON without seq and without its opening brace;
--          for a customer, up to where its sender's name goes
-- ARGV[14] "1": the customer's name on file goes after ARGV[13], then
--          ARGV[16] (the rest of the event)
-- ARGV[15] the rate's field in the session hash (its sender's GCRA state)
-- ARGV[16] the rest of the event after the name ("" without one)
-- The event is built in one concatenation: Lua makes (and interns) one
-- string per message, not three.
-- The gate (written by commit.lua): st state, am access mode after the
-- end, au access until (unix ms), cn customer name, ag agent, tm team;
-- activity: up updated flag, ua updated at (ms), la last agent action (ms).
-- Returns {0, seq, agent, team, newly updated (0/1), customer name} once
-- logged, {1, seq, agent, team, 0, customer name} when the name was
-- logged before, or an error reply NOT_FOUND / FORBIDDEN / READ_ONLY /
-- SESSION_ENDED / ROOM_FULL / RATE_LIMITED <retry after ms>.
local name = ARGV[7]
local g = redis.call('HMGET', KEYS[1], 'st', 'am', 'au', 'cn', 'ag', 'tm', 'up', 'ua', 'la', ARGV[15])
local state = g[1]
if not state then
  return redis.error_reply('NOT_FOUND')
end
-- A name logged before answers with its seq, whatever would refuse a new
-- message now. Its lookup waits until a refusal or the ZADD NX below, so
-- a new message (the common case) pays for one command on the names.
local function repeated()
  if name == '' then return nil end
  local prev = redis.call('ZSCORE', KEYS[5], name)
  if not prev then return nil end
  -- A write, so that a WAIT after this repeat also covers the first.
  redis.call('PEXPIRE', KEYS[5], ARGV[11])
  return {1, tonumber(prev), g[5] or '', g[6] or '', 0, g[4] or ''}
end
local function refuse(code)
  return repeated() or redis.error_reply(code)
end
local now = tonumber(ARGV[2])
local customer = ARGV[1] == 'customer'
if not customer then
  if state == 'ended' then return refuse('READ_ONLY') end
elseif state == 'planned' then
  return refuse('FORBIDDEN')
elseif state == 'ended' then
  local mode = g[2]
  local within = now < tonumber(g[3] or '0')
  if mode == 'limited_for' and within then return refuse('READ_ONLY') end
  if not (mode == 'full' or (mode == 'full_for' and within)) then
    return refuse('SESSION_ENDED')
  end
end
local set = {}
local every = tonumber(ARGV[8])
if every > 0 then
  local t = redis.call('TIME')
  local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local tat = tonumber(g[10] or '0')
  if tat < clock then tat = clock end
  local tolerance = every * (tonumber(ARGV[9]) - 1)
  if tat - clock > tolerance then
    return refuse('RATE_LIMITED ' .. (tat - clock - tolerance))
  end
  set[#set + 1] = ARGV[15]
  set[#set + 1] = tat + every
end
local seq = redis.call('INCR', KEYS[2])
local max = tonumber(ARGV[6])
if max > 0 and seq > max then
  redis.call('DECR', KEYS[2])
  return refuse('ROOM_FULL')
end
-- The seq as a string once: Lua formats a number with sprintf each time
-- it is used as one.
local seqs = tostring(seq)
if name ~= '' and redis.call('ZADD', KEYS[5], 'NX', seqs, name) == 0 then
  redis.call('DECR', KEYS[2])
  return repeated()
end
if seq == 1 then
  redis.call('HSETNX', KEYS[4], 'epoch', ARGV[3])
end
local event
if ARGV[14] == '1' then
  event = '{"seq":' .. seqs .. ',' .. ARGV[13] .. cjson.encode(g[4] or '') .. ARGV[16]
else
  event = '{"seq":' .. seqs .. ',' .. ARGV[13]
end
redis.call('XADD', KEYS[3], seqs .. '-0', 'e', event)
local publish = 'PUBLISH'
if ARGV[5] == '1' then publish = 'SPUBLISH' end
redis.call(publish, ARGV[4], event)
if tonumber(g[8] or '0') < now then
  set[#set + 1] = 'ua'
  set[#set + 1] = ARGV[2]
end
if not customer and tonumber(g[9] or '0') < now then
  set[#set + 1] = 'la'
  set[#set + 1] = ARGV[2]
end
local newly = 0
if ARGV[12] == '1' and g[7] ~= '1' then
  set[#set + 1] = 'up'
  set[#set + 1] = '1'
  newly = 1
end
if #set > 0 then
  redis.call('HSET', KEYS[1], unpack(set))
end
if name ~= '' then
  redis.call('PEXPIRE', KEYS[5], ARGV[11])
  if seq % 32 == 0 then
    redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -(tonumber(ARGV[10]) + 1))
  end
end
return {0, seq, g[5] or '', g[6] or '', newly, g[4] or ''}
