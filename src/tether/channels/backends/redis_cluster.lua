-- Lua scripts of the Redis Cluster mode (redis_cluster.py); the presence and keep scripts
-- come from redis.lua. Every key a script touches carries the channel's hash tag, so each
-- script runs on the one master that owns the channel's slot, atomically.
--
-- The generation is the master's replication id (master_replid). A replica promoted by a
-- failover, or a demoted master promoted again, takes a fresh one; a slot migrated to another
-- master meets that master's. A channel whose meta was written under another id may have lost
-- its last publications (replication is asynchronous), so it starts a new epoch. A script
-- cannot reach a global key in a cluster, which is why the id is read here, on the node.

--@ publish
-- KEYS: meta hash, history stream. ARGV: shard channel, data, history size, history ttl ms,
-- meta ttl ms, epoch to use if the channel has none (or one from another generation).
local meta, stream = KEYS[1], KEYS[2]
local gen = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)')
local epoch = redis.call('HGET', meta, 'e')
if not epoch or redis.call('HGET', meta, 'g') ~= gen then
  epoch = ARGV[6]
  redis.call('HSET', meta, 'e', epoch, 's', 0, 'g', gen)
  redis.call('DEL', stream)
end
local offset = redis.call('HINCRBY', meta, 's', 1)
local id = string.format('%d', offset)
local size = tonumber(ARGV[3])
if size > 0 then
  redis.call('XADD', stream, 'MAXLEN', size, id .. '-1', 'd', ARGV[2])
  redis.call('PEXPIRE', stream, ARGV[4])
end
redis.call('PEXPIRE', meta, ARGV[5])
-- the shard channel has the keys' hash tag: it goes to the subscribers of this shard only
redis.call('SPUBLISH', ARGV[1], 'p' .. id .. ':' .. epoch .. ':' .. ARGV[2])
return {offset, epoch}

--@ history
-- KEYS: meta hash, history stream. ARGV: since offset, limit, epoch to create, meta ttl ms.
local meta, stream = KEYS[1], KEYS[2]
local gen = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)')
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
