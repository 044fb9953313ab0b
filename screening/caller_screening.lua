-- One call from one number: let it through, or refuse it. Atomic, so that every FastAGI
-- node counts the same calls and a number is blocked once. See caller_screening.py.
-- KEYS: rule (hash), allowed (hash), blocks index (zset), the number's calls (zset),
--       the number's block (hash), today's refused counter
-- ARGV: now_ms, number, call id, max_calls, window_ms, block_ms (the settings; the rule
--       hash, written by a supervisor, overrides them), calls kept per number at least
local now = tonumber(ARGV[1])
local number, call = ARGV[2], ARGV[3]
local max_calls = tonumber(redis.call('HGET', KEYS[1], 'max_calls') or ARGV[4])
local window_ms = tonumber(redis.call('HGET', KEYS[1], 'window_ms') or ARGV[5])
local block_ms = tonumber(redis.call('HGET', KEYS[1], 'block_ms') or ARGV[6])
local kept = math.max(tonumber(ARGV[7]), max_calls + 1)

-- An exempted number (a hospital's switchboard, say) is neither counted nor blocked.
if redis.call('HEXISTS', KEYS[2], number) == 1 then
  return {'allowed', 0, '', 0}
end

-- Every call counts, refused ones too: a number that keeps calling while blocked is
-- still over the limit when its block ends.
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window_ms)
redis.call('ZADD', KEYS[4], now, call)
redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -(kept + 1))
redis.call('PEXPIREAT', KEYS[4], now + window_ms)
local calls = redis.call('ZCARD', KEYS[4])

local kind = redis.call('HGET', KEYS[5], 'kind')
if kind then
  local until_ms = tonumber(redis.call('HGET', KEYS[5], 'until_ms') or '0')
  if until_ms > 0 and until_ms <= now then
    -- Over (its key expires at until_ms; this covers the moment in between).
    redis.call('DEL', KEYS[5])
    redis.call('ZREM', KEYS[3], number)
    kind = false
  end
end

local new = 0
if not kind and max_calls > 0 and calls > max_calls then
  kind = 'auto'
  new = 1
  local until_ms = now + block_ms
  redis.call('HSET', KEYS[5], 'kind', 'auto', 'reason', '', 'by', '', 'at_ms', now,
    'until_ms', until_ms, 'calls', calls, 'window_ms', window_ms)
  redis.call('PEXPIREAT', KEYS[5], until_ms)
  redis.call('ZADD', KEYS[3], now, number)
end

if kind then
  redis.call('INCR', KEYS[6])
  redis.call('EXPIRE', KEYS[6], 8 * 86400)
  return {'refused', calls, kind, new}
end
return {'admitted', calls, '', 0}
