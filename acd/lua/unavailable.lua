-- ARGV: now, seat, state ('paused' or 'logged_out'), reason
local seat = ARGV[2]
local err = busy_error(seat)
if err then return err end
redis.call('ZREM', 'acd:timers', 'wrapup|' .. seat)
transition(seat, ARGV[3], ARGV[4], '')
index_agent(seat)
return 1
