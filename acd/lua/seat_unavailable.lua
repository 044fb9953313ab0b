-- ARGV: now_ms, seat, state ('paused' or 'logged_out'), reason
local seat = ARGV[2]
local skey = 'acd:seat:' .. seat
local state = redis.call('HGET', skey, 'state') or 'logged_out'
if state == 'offered' or state == 'on_call' then
  return redis.error_reply('seat is ' .. state)
end
redis.call('ZREM', 'acd:ready', seat)
redis.call('HSET', skey, 'state', ARGV[3], 'reason', ARGV[4], 'call', '', 'since', ARGV[1])
event('seat_' .. ARGV[3], 'seat', seat, 'reason', ARGV[4])
return 1
