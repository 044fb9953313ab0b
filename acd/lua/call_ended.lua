-- The bridged call is over. ARGV: now_ms, call_id, seat
-- The seat is ready again at once (wrap-up time arrives with the full ACD).
local call, seat = ARGV[2], ARGV[3]
local skey = 'acd:seat:' .. seat
redis.call('DEL', 'acd:call:' .. call)
event('ended', 'call', call, 'seat', seat)
if redis.call('HGET', skey, 'call') == call then
  redis.call('HSET', skey, 'state', 'ready', 'call', '', 'since', ARGV[1], 'idle_since', ARGV[1])
  redis.call('ZADD', 'acd:ready', ARGV[1], seat)
  event('seat_ready', 'seat', seat)
end
return match()
