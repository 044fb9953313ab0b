-- The caller hung up (or its session ended). ARGV: now_ms, call_id, reason
-- Removes the call wherever it is; a seat it was offered to goes back to ready, keeping
-- its place (its idle time), so the caller's hang-up costs the seat nothing.
local call = ARGV[2]
local key = 'acd:call:' .. call
local state = redis.call('HGET', key, 'state')
if not state then return 0 end
redis.call('ZREM', 'acd:waiting', call)
if state == 'offered' then
  local seat = redis.call('HGET', key, 'seat')
  local skey = 'acd:seat:' .. seat
  if redis.call('HGET', skey, 'call') == call then
    local idle = redis.call('HGET', skey, 'idle_since') or ARGV[1]
    redis.call('HSET', skey, 'state', 'ready', 'call', '', 'since', ARGV[1])
    redis.call('ZADD', 'acd:ready', idle, seat)
    event('seat_ready', 'seat', seat)
  end
end
redis.call('DEL', key)
event('left', 'call', call, 'from', state, 'reason', ARGV[3])
match()
return 1
