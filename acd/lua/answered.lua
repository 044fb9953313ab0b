-- ARGV: now_ms, call_id, seat
local call, seat = ARGV[2], ARGV[3]
if redis.call('HGET', 'acd:seat:' .. seat, 'call') ~= call then return 0 end
redis.call('HSET', 'acd:call:' .. call, 'state', 'on_call', 'answered_at', ARGV[1])
redis.call('HSET', 'acd:seat:' .. seat, 'state', 'on_call', 'since', ARGV[1])
event('answered', 'call', call, 'seat', seat)
return 1
