-- The bridged call is over. ARGV: now, call, seat
-- The agent wraps up for the configured time (the sweeper ends it), or is ready at once.
local call, seat = ARGV[2], ARGV[3]
-- The average handle time (talk; wrap-up is the agent's own): an exponential average.
local answered = tonumber(redis.call('HGET', 'acd:call:' .. call, 'answered_at') or '')
if answered then
  local talk = NOW - answered
  local aht = tonumber(redis.call('HGET', 'acd:stats', 'aht_ms') or '')
  redis.call('HSET', 'acd:stats', 'aht_ms', aht and (0.9 * aht + 0.1 * talk) or talk)
end
redis.call('DEL', 'acd:call:' .. call)
redis.call('ZREM', 'acd:timers', 'offer|' .. call, 'overflow|' .. call)
event('ended', 'call', call, 'seat', seat)
if redis.call('HGET', 'acd:agent:' .. seat, 'call') ~= call then return 0 end
local wrapup = tonumber(config('wrapup_ms', '0'))
if wrapup > 0 then
  transition(seat, 'wrap_up', '', '')
  redis.call('HSET', 'acd:agent:' .. seat, 'wrap_until', NOW + wrapup)
  redis.call('ZADD', 'acd:timers', NOW + wrapup, 'wrapup|' .. seat)
  return 0
end
return make_ready(seat, false)
