-- The seat did not take the offer. ARGV: now, call, seat, reason
-- The seat is paused with the reason; the call goes back to its old place.
local call, seat = ARGV[2], ARGV[3]
if redis.call('HGET', 'acd:agent:' .. seat, 'call') == call then
  transition(seat, 'paused', ARGV[4], '')
  index_agent(seat)
end
if redis.call('HGET', 'acd:call:' .. call, 'state') == 'offered' then
  requeue(call, seat, ARGV[4])
  return match_call(call)
end
return 0
