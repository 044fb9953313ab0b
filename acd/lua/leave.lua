-- The caller hung up, or its session ended. ARGV: now, call, reason
-- The call goes wherever it is; a seat it was offered to is ready again and keeps its
-- place, so the caller's hang-up costs the seat nothing.
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
  make_ready(seat, true)
end
return 1
