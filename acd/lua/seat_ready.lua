-- ARGV: now_ms, seat. A seat with a call in progress cannot be made ready.
local seat = ARGV[2]
local skey = 'acd:seat:' .. seat
local state = redis.call('HGET', skey, 'state') or 'logged_out'
if state == 'offered' or state == 'on_call' then
  return redis.error_reply('seat is ' .. state)
end
if state ~= 'ready' then
  redis.call('HSET', skey, 'state', 'ready', 'reason', '', 'call', '', 'since', ARGV[1],
    'idle_since', ARGV[1])
  redis.call('ZADD', 'acd:ready', ARGV[1], seat)
  event('seat_ready', 'seat', seat)
end
return match()
