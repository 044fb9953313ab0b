-- ARGV: now, seat, default_skills. A logged-out seat logs in with the default skills.
local seat = ARGV[2]
local err = busy_error(seat)
if err then return err end
local state = agent_state(seat)
if state == 'ready' then return match_agent(seat) end
if state == 'logged_out' and (redis.call('HGET', 'acd:agent:' .. seat, 'skills') or '') == '' then
  redis.call('HSET', 'acd:agent:' .. seat, 'skills', ARGV[3])
end
return make_ready(seat)
