-- ARGV: now, seat, skills ("general:1,tax:5"). The agent logs in and is ready.
local seat = ARGV[2]
local err = busy_error(seat)
if err then return err end
-- Out of the old skills' sets before the skills change.
unindex_agent(seat)
redis.call('HSET', 'acd:agent:' .. seat, 'skills', ARGV[3])
redis.call('HDEL', 'acd:agent:' .. seat, 'idle_since')
event('login', 'seat', seat, 'skills', ARGV[3])
return make_ready(seat)
