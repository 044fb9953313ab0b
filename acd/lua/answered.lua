-- ARGV: now, call, seat, channel (the seat's Asterisk channel, for transfers), and that
-- channel's uniqueid (the queue_log's CONNECT names it, as app_queue does)
local call, seat = ARGV[2], ARGV[3]
if redis.call('HGET', 'acd:agent:' .. seat, 'call') ~= call then return 0 end
redis.call('HSET', 'acd:call:' .. call, 'state', 'on_call', 'answered_at', ARGV[1])
redis.call('ZREM', 'acd:timers', 'offer|' .. call)
redis.call('HINCRBY', 'acd:agent:' .. seat, 'calls', 1)
transition(seat, 'on_call', '', call)
redis.call('HSET', 'acd:agent:' .. seat, 'channel', ARGV[4] or '')
event('answered', 'call', call, 'seat', seat, 'seat_uniqueid', ARGV[5] or '')
return 1
