-- Shared by every ACD script (prepended to each). ARGV[1] is always now in ms.
-- Keys: acd:call:<id> and acd:agent:<seat> hashes; acd:waiting:<skill> (call -> order),
-- acd:ready:<skill> (seat -> policy score) and acd:retry:<skill> (seat -> misses, then the
-- time of the last miss) sorted sets, lowest first; acd:timers ("kind|id" -> due ms);
-- acd:events stream; acd:config hash.
local NOW = tonumber(ARGV[1])

local function event(kind, ...)
  redis.call('XADD', 'acd:events', 'MAXLEN', '~', '200000', '*', 'type', kind, 'at', ARGV[1], ...)
end

local function config(name, default)
  return redis.call('HGET', 'acd:config', name) or default
end

local function split(text)
  local out = {}
  for item in string.gmatch(text or '', '[^,]+') do out[#out + 1] = item end
  return out
end

-- "general:1,tax:5" -> {{'agent_<seat>', 1}, {'general', 1}, {'tax', 5}}: every agent also
-- has its own skill, so a transfer to that agent is a call only it can match.
local function agent_skills(seat)
  local out = {{'agent_' .. seat, 1}}
  local text = redis.call('HGET', 'acd:agent:' .. seat, 'skills') or ''
  for name, level in string.gmatch(text, '([^,:]+):(%d+)') do
    out[#out + 1] = {name, tonumber(level)}
  end
  return out
end

local function agent_state(seat)
  return redis.call('HGET', 'acd:agent:' .. seat, 'state') or 'logged_out'
end

-- Lower is better. The policy decides which ready agent takes the next call.
local function ready_score(seat, level)
  local a = 'acd:agent:' .. seat
  local idle = tonumber(redis.call('HGET', a, 'idle_since') or ARGV[1])
  local policy = config('policy', 'longest_idle')
  if policy == 'least_calls' then
    return tonumber(redis.call('HGET', a, 'calls') or '0') * 1e13 + idle
  elseif policy == 'skill_level' then
    return (100 - level) * 1e13 + idle
  end
  return idle
end

-- Ready and registered. A missing flag (no presence report yet) counts as registered: the
-- presence watcher reports every configured seat on each (re)connection, so the flag is
-- missing only until its first pass, or while it is not running at all; offering then
-- keeps the hotline answering, and a seat with no phone fails its Dial at once
-- (CHANUNAVAIL), which pauses it (offer_failed.lua).
local function available(seat)
  return agent_state(seat) == 'ready'
    and redis.call('HGET', 'acd:agent:' .. seat, 'registered') ~= '0'
end

-- Consecutive offers the agent let end unanswered (reset by an answer or a fresh ready).
local function misses(seat)
  return tonumber(redis.call('HGET', 'acd:agent:' .. seat, 'unanswered') or '0')
end

-- A seat whose last offer went unanswered waits in acd:retry:<skill>, behind every seat in
-- good standing whatever the policy (least_calls would otherwise put a dead seat, with
-- no calls, first every time): fewest misses first, then the earliest miss, so the seat
-- that just missed is the last one asked.
local function retry_score(seat)
  local idle = tonumber(redis.call('HGET', 'acd:agent:' .. seat, 'idle_since') or ARGV[1])
  return misses(seat) * 1e13 + idle
end

-- Puts the agent in its skills' ready (or retry) sets when available, takes it out otherwise.
local function index_agent(seat)
  local yes = available(seat)
  local missed = yes and misses(seat) > 0
  for _, skill in ipairs(agent_skills(seat)) do
    if yes and not missed then
      redis.call('ZADD', 'acd:ready:' .. skill[1], ready_score(seat, skill[2]), seat)
      redis.call('ZREM', 'acd:retry:' .. skill[1], seat)
    elseif yes then
      redis.call('ZADD', 'acd:retry:' .. skill[1], retry_score(seat), seat)
      redis.call('ZREM', 'acd:ready:' .. skill[1], seat)
    else
      redis.call('ZREM', 'acd:ready:' .. skill[1], seat)
      redis.call('ZREM', 'acd:retry:' .. skill[1], seat)
    end
  end
  return yes
end

-- Out of every set of the agent's present skills (before they change).
local function unindex_agent(seat)
  for _, skill in ipairs(agent_skills(seat)) do
    redis.call('ZREM', 'acd:ready:' .. skill[1], seat)
    redis.call('ZREM', 'acd:retry:' .. skill[1], seat)
  end
end

local function transition(seat, to, reason, call)
  local a = 'acd:agent:' .. seat
  local from = agent_state(seat)
  if to == 'logged_out' then
    redis.call('SREM', 'acd:agents', seat)
  else
    redis.call('SADD', 'acd:agents', seat)
  end
  redis.call('HSET', a, 'state', to, 'reason', reason or '', 'call', call or '', 'since', ARGV[1])
  -- Answering is the one way into on_call (answered.lua): the agent is there.
  if to == 'on_call' then redis.call('HDEL', a, 'unanswered') end
  if from == 'logged_out' then
    -- Coming in: the skills it joins with, so a reader that missed its login (or saw an
    -- older one) names the right queues.
    event('agent', 'seat', seat, 'from', from, 'to', to, 'reason', reason or '',
          'call', call or '', 'skills', redis.call('HGET', a, 'skills') or '')
  else
    event('agent', 'seat', seat, 'from', from, 'to', to, 'reason', reason or '', 'call', call or '')
  end
end

local function call_skills(call)
  return split(redis.call('HGET', 'acd:call:' .. call, 'skills'))
end

local function index_call(call)
  local order = redis.call('HGET', 'acd:call:' .. call, 'order')
  for _, skill in ipairs(call_skills(call)) do
    redis.call('ZADD', 'acd:waiting:' .. skill, order, call)
  end
end

local function unindex_call(call)
  for _, skill in ipairs(call_skills(call)) do
    redis.call('ZREM', 'acd:waiting:' .. skill, call)
  end
end

local best_in

-- Offers the call to the seat. The offer rings at most ring_others_idle_ms (its 'ring_ms';
-- 0 is the full ring timeout) while another seat in good standing could take the call:
-- a seat whose agent is gone then costs the caller that much, not a whole ring.
local function offer(call, seat)
  local c = 'acd:call:' .. call
  unindex_call(call)
  redis.call('HSET', c, 'state', 'offered', 'seat', seat, 'offered_at', ARGV[1])
  transition(seat, 'offered', '', call)
  index_agent(seat)
  local ring = tonumber(config('ring_others_idle_ms', '0'))
  if ring > 0 and not best_in('ready', call) then ring = 0 end
  redis.call('HSET', c, 'ring_ms', ring)
  redis.call('ZADD', 'acd:timers', NOW + tonumber(config('offer_timeout_ms', '30000')),
    'offer|' .. call)
  event('offered', 'call', call, 'seat', seat, 'ticket', redis.call('HGET', c, 'ticket') or '')
  local node = redis.call('HGET', c, 'node')
  if node then
    redis.call('PUBLISH', 'acd:offers:' .. node, call .. ' ' .. seat .. ' ' .. ring)
  end
end

-- The best of the call's skills' sets of this kind ('ready' or 'retry'), or nil.
best_in = function(kind, call)
  local best, best_score = nil, nil
  for _, skill in ipairs(call_skills(call)) do
    local top = redis.call('ZRANGE', 'acd:' .. kind .. ':' .. skill, 0, 0, 'WITHSCORES')
    if #top > 0 and (best == nil or tonumber(top[2]) < best_score) then
      best, best_score = top[1], tonumber(top[2])
    end
  end
  return best
end

-- The best available agent for this call, over every skill the call may use now: a seat
-- that missed its last offer only when no seat in good standing is free.
local function match_call(call)
  if redis.call('HGET', 'acd:call:' .. call, 'state') ~= 'waiting' then return 0 end
  local best = best_in('ready', call) or best_in('retry', call)
  if best then offer(call, best) return 1 end
  return 0
end

-- The first call (priority, then arrival) over every skill this agent has.
local function match_agent(seat)
  if not available(seat) then return 0 end
  local best, best_score = nil, nil
  for _, skill in ipairs(agent_skills(seat)) do
    local top = redis.call('ZRANGE', 'acd:waiting:' .. skill[1], 0, 0, 'WITHSCORES')
    if #top > 0 and (best == nil or tonumber(top[2]) < best_score) then
      best, best_score = top[1], tonumber(top[2])
    end
  end
  if best then offer(best, seat) return 1 end
  return 0
end

-- An agent becomes ready by its own action or after its call: a new idle period, and a
-- clean record (pressing ready after a no_answer pause is the agent saying it is back).
local function make_ready(seat)
  local a = 'acd:agent:' .. seat
  redis.call('HSET', a, 'idle_since', ARGV[1])
  redis.call('HDEL', a, 'unanswered')
  redis.call('ZREM', 'acd:timers', 'wrapup|' .. seat)
  transition(seat, 'ready', '', '')
  index_agent(seat)
  return match_agent(seat)
end

-- The seat's offer ended without an answer, whatever ended it: the caller's hang-up while
-- it rang, the ring timeout, a refusal, a lost session. Either way the seat loses its
-- place: it is ready again as of now, behind every seat in good standing (retry_score),
-- so it is asked again only when nobody else is free. After no_answer_pause_after misses
-- in a row (0: never), or at once when `pause_now` (the seat's own Dial ended without an
-- answer: it rang the full ring time, refused, or could not be reached), it is paused
-- with reason no_answer. Call it after the call is requeued or gone, so that a requeued
-- call goes to another free seat before this one.
local function offer_unanswered(seat, pause_now)
  local a = 'acd:agent:' .. seat
  local missed = redis.call('HINCRBY', a, 'unanswered', 1)
  local limit = tonumber(config('no_answer_pause_after', '2'))
  if pause_now or (limit > 0 and missed >= limit) then
    transition(seat, 'paused', 'no_answer', '')
    index_agent(seat)
    return 0
  end
  redis.call('HSET', a, 'idle_since', ARGV[1])
  transition(seat, 'ready', '', '')
  index_agent(seat)
  return match_agent(seat)
end

local function requeue(call, seat, reason)
  local c = 'acd:call:' .. call
  redis.call('HSET', c, 'state', 'waiting', 'seat', '')
  redis.call('ZREM', 'acd:timers', 'offer|' .. call)
  index_call(call)
  event('requeued', 'call', call, 'seat', seat, 'reason', reason)
end

local function busy_error(seat)
  local state = agent_state(seat)
  if state == 'offered' or state == 'on_call' then
    return redis.error_reply('seat is ' .. state)
  end
  return nil
end
