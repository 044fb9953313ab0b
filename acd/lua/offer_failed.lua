-- The seat did not take the offer. ARGV: now_ms, call_id, seat, reason
-- The seat is paused with the reason; the call goes back to the queue at its old place.
local call, seat = ARGV[2], ARGV[3]
local key = 'acd:call:' .. call
local skey = 'acd:seat:' .. seat
if redis.call('HGET', skey, 'call') == call then
  redis.call('HSET', skey, 'state', 'paused', 'reason', ARGV[4], 'call', '', 'since', ARGV[1])
  event('seat_paused', 'seat', seat, 'reason', ARGV[4])
end
if redis.call('HGET', key, 'state') == 'offered' then
  local order = redis.call('HGET', key, 'order')
  redis.call('HSET', key, 'state', 'waiting', 'seat', '')
  redis.call('ZADD', 'acd:waiting', order, call)
  event('requeued', 'call', call, 'seat', seat, 'reason', ARGV[4])
end
return match()
