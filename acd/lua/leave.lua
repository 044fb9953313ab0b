-- The caller hung up, or its session ended. ARGV: now, call, reason
-- The call goes wherever it is. A seat it was offered to lost the offer unanswered: it is
-- ready again at the back (or paused, after too many misses in a row; lib.lua's
-- offer_unanswered), because a seat whose agent is gone would otherwise stay the
-- longest idle and be rung for every caller who gives up while it rings.
local call = ARGV[2]
local c = 'acd:call:' .. call
local state = redis.call('HGET', c, 'state')
if not state then return 0 end
unindex_call(call)
redis.call('ZREM', 'acd:timers', 'offer|' .. call, 'overflow|' .. call)
local seat = redis.call('HGET', c, 'seat') or ''
redis.call('DEL', c)
event('left', 'call', call, 'from', state, 'reason', ARGV[3], 'seat', seat)
if state == 'offered' and seat ~= '' and
    redis.call('HGET', 'acd:agent:' .. seat, 'call') == call then
  offer_unanswered(seat, false)
end
return 1
