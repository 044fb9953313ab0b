-- What a waiting caller may be told. ARGV: now, call
-- Returns {calls ahead, agents logged in with one of its skills, average handle time ms}.
local call = ARGV[2]
if redis.call('HGET', 'acd:call:' .. call, 'state') ~= 'waiting' then return {-1, 0, 0} end
local skills = call_skills(call)
local ahead = nil
for _, skill in ipairs(skills) do
  local rank = redis.call('ZRANK', 'acd:waiting:' .. skill, call)
  if rank and (ahead == nil or rank < ahead) then ahead = rank end
end
local wanted = {}
for _, skill in ipairs(skills) do wanted[skill] = true end
local agents = 0
for _, seat in ipairs(redis.call('SMEMBERS', 'acd:agents')) do
  for _, skill in ipairs(agent_skills(seat)) do
    if wanted[skill[1]] then agents = agents + 1 break end
  end
end
local aht = tonumber(redis.call('HGET', 'acd:stats', 'aht_ms') or '0')
return {ahead or 0, agents, math.floor(aht)}
