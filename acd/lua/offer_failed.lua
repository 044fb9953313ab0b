-- The seat did not take the offer: its Dial ended without an answer (the ring timeout,
-- busy, refused, unreachable). ARGV: now, call, seat, reason
-- The call goes back to its old place and to another free seat if there is one; then the
-- seat is paused with reason no_answer at once: unlike a caller's hang-up, a full ring or
-- a refusal is the seat's own answer, and counting it towards no_answer_pause_after would
-- cost a second caller a full ring whenever callers wait (lib.lua's offer_unanswered).
local call, seat = ARGV[2], ARGV[3]
local matched = 0
if redis.call('HGET', 'acd:call:' .. call, 'state') == 'offered' and
    redis.call('HGET', 'acd:call:' .. call, 'seat') == seat then
  requeue(call, seat, ARGV[4])
  matched = match_call(call)
end
if redis.call('HGET', 'acd:agent:' .. seat, 'call') == call then
  offer_unanswered(seat, true)
end
return matched
