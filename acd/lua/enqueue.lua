-- ARGV: now_ms, call_id, node, ticket, caller, dialled, hint
local call = ARGV[2]
if redis.call('EXISTS', 'acd:call:' .. call) == 1 then
  return redis.error_reply('call already queued: ' .. call)
end
redis.call('HSET', 'acd:call:' .. call, 'state', 'waiting', 'node', ARGV[3], 'ticket', ARGV[4],
  'caller', ARGV[5], 'dialled', ARGV[6], 'hint', ARGV[7], 'order', ARGV[1],
  'enqueued_at', ARGV[1])
redis.call('ZADD', 'acd:waiting', ARGV[1], call)
event('enqueued', 'call', call, 'ticket', ARGV[4], 'hint', ARGV[7])
return match()
