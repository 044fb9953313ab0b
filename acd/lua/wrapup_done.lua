-- The agent ends wrap-up early. ARGV: now, seat
local seat = ARGV[2]
if agent_state(seat) ~= 'wrap_up' then return redis.error_reply('seat is not in wrap-up') end
return make_ready(seat)
