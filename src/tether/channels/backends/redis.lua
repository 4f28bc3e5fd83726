-- Lua scripts of the Redis channels backend. Each script starts with a "--@ name" line.
-- Offsets and epochs are assigned here, atomically with the history append and the PUBLISH,
-- so every node and every subscriber sees one total order per channel.

--@ publish
-- KEYS: meta hash, history stream, server hash. ARGV: pub/sub key, data, history size,
-- history ttl ms, meta ttl ms, epoch to use if the channel has none (or a stale one).
local meta, stream = KEYS[1], KEYS[2]
local gen = redis.call('HGET', KEYS[3], 'g')
if not gen then
  gen = ARGV[6]
  redis.call('HSET', KEYS[3], 'g', gen)
end
local epoch = redis.call('HGET', meta, 'e')
-- A channel whose meta was written under another server generation may have lost its last
-- publications in a failover or restart (replication and persistence are asynchronous):
-- its offsets must not be reused, so it starts a new epoch.
if not epoch or redis.call('HGET', meta, 'g') ~= gen then
  epoch = ARGV[6]
  redis.call('HSET', meta, 'e', epoch, 's', 0, 'g', gen)
  -- history left from a lost epoch must never mix with the new one
  redis.call('DEL', stream)
end
local offset = redis.call('HINCRBY', meta, 's', 1)
-- '%d', not '..': Lua writes numbers from 1e14 on as '1e+14', which is no stream id
local id = string.format('%d', offset)
local size = tonumber(ARGV[3])
if size > 0 then
  redis.call('XADD', stream, 'MAXLEN', size, id .. '-1', 'd', ARGV[2])
  redis.call('PEXPIRE', stream, ARGV[4])
end
redis.call('PEXPIRE', meta, ARGV[5])
redis.call('PUBLISH', ARGV[1], 'p' .. id .. ':' .. epoch .. ':' .. ARGV[2])
return {offset, epoch}

--@ history
-- KEYS: meta hash, history stream, server hash. ARGV: since offset, limit, epoch to create,
-- meta ttl ms.
local meta, stream = KEYS[1], KEYS[2]
local gen = redis.call('HGET', KEYS[3], 'g')
if not gen then
  gen = ARGV[3]
  redis.call('HSET', KEYS[3], 'g', gen)
end
local epoch = redis.call('HGET', meta, 'e')
if not epoch or redis.call('HGET', meta, 'g') ~= gen then
  epoch = ARGV[3]
  redis.call('HSET', meta, 'e', epoch, 's', 0, 'g', gen)
  redis.call('PEXPIRE', meta, ARGV[4])
  redis.call('DEL', stream)
end
local top = tonumber(redis.call('HGET', meta, 's') or '0')
local limit = tonumber(ARGV[2])
local entries = {}
if limit > 0 then
  local first = string.format('%d', tonumber(ARGV[1]) + 1)
  entries = redis.call('XRANGE', stream, first .. '-0', '+', 'COUNT', limit)
end
return {top, epoch, entries}

--@ presence_sweep
-- KEYS: presence hash, expiry sorted set. ARGV: now ms, "list" or "count".
-- Only members whose heartbeat is current count; expired ones stay until presence_expire
-- removes them, so that the node removing them is the one that announces their leave.
if ARGV[2] == 'count' then
  return redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[1], '+inf')
end
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf')
local result = {}
for _, client in ipairs(live) do
  local info = redis.call('HGET', KEYS[1], client)
  if info then
    result[#result + 1] = client
    result[#result + 1] = info
  end
end
return result

--@ presence_expire
-- KEYS: presence hash, expiry sorted set. ARGV: now ms.
-- Members whose heartbeat stopped (their node died), with their info. The script runs
-- atomically, so when several nodes sweep at once each member is returned to one of them.
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local result = {}
for _, client in ipairs(expired) do
  local info = redis.call('HGET', KEYS[1], client)
  redis.call('ZREM', KEYS[2], client)
  redis.call('HDEL', KEYS[1], client)
  if info then
    result[#result + 1] = client
    result[#result + 1] = info
  end
end
return result

--@ keep
-- KEYS: meta hashes of the channels one node serves. ARGV: ttl ms.
-- Extends, never shortens, their time to live: a channel that is listened to keeps its epoch
-- however quiet it is, and one read but never published to goes soon after the last listener.
local ttl = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  local left = redis.call('PTTL', key)
  if left >= 0 and left < ttl then
    redis.call('PEXPIRE', key, ttl)
  end
end
return 0

--@ server
-- KEYS: server hash.
-- Run first on every connection of the publish pipeline. The hash is replicated and persisted
-- with the data, so on a server that is not the one that last wrote it (a promoted replica,
-- a restart that reloaded a snapshot) the run id differs: a new generation begins, and every
-- channel starts a new epoch at its next publish or read instead of reusing offsets.
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
if redis.call('HGET', KEYS[1], 'run') ~= run then
  -- run id and time: distinct from every earlier generation, also when a server becomes
  -- master again later (its run id is the same, the hash was rewritten meanwhile)
  local now = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'run', run, 'g', run .. ':' .. now[1] .. '.' .. now[2])
end
return redis.call('HGET', KEYS[1], 'g')
