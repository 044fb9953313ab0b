-- The matching policy, prepended to every script that can make a match possible.
-- First in, first out; the longest-idle ready seat. Marks both sides offered, records the
-- event and tells the node that holds the call. One call, one seat: all in one script.
local function event(kind, ...)
  redis.call('XADD', 'acd:events', 'MAXLEN', '~', '100000', '*', 'type', kind, 'at', ARGV[1], ...)
end

local function match()
  local made = 0
  while true do
    local calls = redis.call('ZRANGE', 'acd:waiting', 0, 0)
    if #calls == 0 then break end
    local seats = redis.call('ZRANGE', 'acd:ready', 0, 0)
    if #seats == 0 then break end
    local call, seat = calls[1], seats[1]
    redis.call('ZREM', 'acd:waiting', call)
    redis.call('ZREM', 'acd:ready', seat)
    redis.call('HSET', 'acd:call:' .. call, 'state', 'offered', 'seat', seat, 'offered_at', ARGV[1])
    redis.call('HSET', 'acd:seat:' .. seat, 'state', 'offered', 'call', call, 'since', ARGV[1])
    event('offered', 'call', call, 'seat', seat)
    local node = redis.call('HGET', 'acd:call:' .. call, 'node')
    if node then redis.call('PUBLISH', 'acd:offers:' .. node, call .. ' ' .. seat) end
    made = made + 1
  end
  return made
end
