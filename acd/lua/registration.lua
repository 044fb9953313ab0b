-- The seat's softphone registered ('1') or went away ('0'). ARGV: now, seat, flag
local seat = ARGV[2]
local a = 'acd:agent:' .. seat
if redis.call('HGET', a, 'registered') == ARGV[3] then return 0 end
redis.call('HSET', a, 'registered', ARGV[3])
event('registration', 'seat', seat, 'registered', ARGV[3])
if index_agent(seat) then return match_agent(seat) end
return 0
