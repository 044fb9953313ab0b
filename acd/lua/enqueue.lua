-- ARGV: now, call, node, ticket, caller, dialled, hint, priority, skills,
--       overflow_skills, overflow_after_ms, queue, pbx_answered_ms
-- pbx_answered_ms: when Asterisk answered the caller ('' if not known), so that the
-- service level can also be counted from the answer (supervision/definitions.py).
local call = ARGV[2]
local c = 'acd:call:' .. call
if redis.call('EXISTS', c) == 1 then return redis.error_reply('call already queued: ' .. call) end
-- Higher priority (0-99) first, then arrival: one sorted-set score, exact in a double.
local order = (100 - tonumber(ARGV[8])) * 1e13 + NOW
redis.call('HSET', c, 'state', 'waiting', 'node', ARGV[3], 'ticket', ARGV[4], 'caller', ARGV[5],
  'dialled', ARGV[6], 'hint', ARGV[7], 'priority', ARGV[8], 'skills', ARGV[9],
  'overflow_skills', ARGV[10], 'queue', ARGV[12], 'order', string.format('%.0f', order), 'enqueued_at', ARGV[1])
index_call(call)
if ARGV[10] ~= '' then
  redis.call('ZADD', 'acd:timers', NOW + tonumber(ARGV[11]), 'overflow|' .. call)
end
event('enqueued', 'call', call, 'node', ARGV[3], 'ticket', ARGV[4], 'hint', ARGV[7],
  'priority', ARGV[8], 'skills', ARGV[9], 'queue', ARGV[12], 'caller', ARGV[5],
  'dialled', ARGV[6], 'pbx_answered', ARGV[13] or '')
-- The seat it was offered to at once (the caller's node needs no message) and the offer's
-- ring ("seat-001 8000", as offers are published), or ''.
if match_call(call) == 1 then
  return redis.call('HGET', c, 'seat') .. ' ' .. redis.call('HGET', c, 'ring_ms')
end
return ''
