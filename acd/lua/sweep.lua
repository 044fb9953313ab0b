-- Time-driven rules, idempotent: any node may run this as often as it likes.
-- ARGV: now, limit. Returns how many timers fired.
local due = redis.call('ZRANGEBYSCORE', 'acd:timers', '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, timer in ipairs(due) do
  redis.call('ZREM', 'acd:timers', timer)
  local kind, id = string.match(timer, '^(%a+)|(.+)$')
  local c = 'acd:call:' .. (id or '')
  if kind == 'overflow' and redis.call('HGET', c, 'state') then
    -- The call may now also go to the overflow skills' agents.
    local extra = redis.call('HGET', c, 'overflow_skills') or ''
    if extra ~= '' then
      local waiting = redis.call('HGET', c, 'state') == 'waiting'
      if waiting then unindex_call(id) end
      redis.call('HSET', c, 'skills', redis.call('HGET', c, 'skills') .. ',' .. extra,
        'overflow_skills', '')
      event('overflowed', 'call', id, 'skills', extra)
      if waiting then
        index_call(id)
        match_call(id)
      end
    end
  elseif kind == 'wrapup' and agent_state(id) == 'wrap_up' then
    make_ready(id)
  elseif kind == 'offer' and redis.call('HGET', c, 'state') == 'offered' then
    -- Nobody reported on this offer in time (its node may have died): the call goes
    -- back first, to another free seat if there is one; the seat's miss counts, but
    -- says little about the seat, so it does not pause it at once.
    local seat = redis.call('HGET', c, 'seat')
    requeue(id, seat, 'offer timeout')
    match_call(id)
    if redis.call('HGET', 'acd:agent:' .. seat, 'call') == id then
      offer_unanswered(seat, false)
    end
  end
end
return #due
