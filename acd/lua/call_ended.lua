-- The seat's part of a call is over. ARGV: now, call, seat, by ('agent', 'caller',
-- 'blind_transfer' or '': who ended it, when the reporter knows; queue_log's
-- COMPLETEAGENT, COMPLETECALLER or BLINDTRANSFER). An agent leaving while its
-- consultation is answered completes an attended transfer: 'attended_transfer'.
-- Both the call session (when its Dial returns) and the seat channel's hang-up handler
-- report it, so a second report is a no-op. The agent wraps up for the configured time
-- (the sweeper ends it), or is ready at once.
local call, seat = ARGV[2], ARGV[3]
local c = 'acd:call:' .. call
local mine = redis.call('HGET', 'acd:agent:' .. seat, 'call') == call
if redis.call('EXISTS', c) == 0 and not mine then return 0 end
-- The average handle time (talk; wrap-up is the agent's own): an exponential average.
local answered = tonumber(redis.call('HGET', c, 'answered_at') or '')
if answered then
  local talk = NOW - answered
  local aht = tonumber(redis.call('HGET', 'acd:stats', 'aht_ms') or '')
  redis.call('HSET', 'acd:stats', 'aht_ms', aht and (0.9 * aht + 0.1 * talk) or talk)
end
redis.call('DEL', c)
redis.call('ZREM', 'acd:timers', 'offer|' .. call, 'overflow|' .. call)
local by = ARGV[4] or ''
if mine and by ~= 'caller' and by ~= 'blind_transfer' then
  local consultation = redis.call('HGET', 'acd:agent:' .. seat, 'consultation')
  if consultation and consultation ~= '' and
      redis.call('HGET', 'acd:call:' .. consultation, 'state') == 'on_call' then
    by = 'attended_transfer'
  end
end
if by ~= '' then
  event('ended', 'call', call, 'seat', seat, 'by', by)
else
  event('ended', 'call', call, 'seat', seat)
end
if not mine then return 0 end
redis.call('HDEL', 'acd:agent:' .. seat, 'channel')
-- Still offered: the call ended before the seat answered (the reconciler frees a seat
-- whose caller is gone this way). That is an unanswered offer like any other.
if agent_state(seat) == 'offered' then return offer_unanswered(seat, false) end
local wrapup = tonumber(config('wrapup_ms', '0'))
if wrapup > 0 then
  transition(seat, 'wrap_up', '', '')
  redis.call('HSET', 'acd:agent:' .. seat, 'wrap_until', NOW + wrapup)
  redis.call('ZADD', 'acd:timers', NOW + wrapup, 'wrapup|' .. seat)
  return 0
end
return make_ready(seat)
