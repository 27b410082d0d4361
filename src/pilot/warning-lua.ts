/**
 * The warning store's scripts (warning-store.ts). Each runs in one segment's slot: every key it
 * touches starts with the segment's prefix `P` (ARGV[1]).
 */
import { UPSERT_RECORDS_LUA } from '../buffer/records-lua.js';
import { luaScript } from '../buffer/redis-script.js';

/**
 * Lua: `indexes_of(k)`, a stored warning's index keys (`x`, one a line). A warning stored before
 * `x` existed has its processor and status in `p` and `s`: its indexes are derived from them and
 * written as `x`, so that the record upsert moves it between indexes like any other.
 */
const INDEXES_OF_LUA = `
local function indexes_of(P, k)
  local f = redis.call('HMGET', k, 'x', 'p', 's')
  if f[1] or not f[2] then return f[1] end
  local x = P .. 'x:all\\n' .. P .. 'x:p:' .. f[2] .. '\\n' .. P .. 'x:s:' .. f[3] .. '\\n' .. P .. 'x:ps:' .. f[3] .. ':' .. f[2]
  redis.call('HSET', k, 'x', x)
  return x
end
`;

/** `drop(P, m)`: deletes the warning of index member `m` from segment P and all its indexes; DEL's count. */
const DROP_LUA = `${INDEXES_OF_LUA}
local function drop(P, m)
  local k = P .. 'w:' .. string.sub(m, 15)
  local x = indexes_of(P, k)
  redis.call('ZREM', P .. 'x:all', m)
  if x then
    for idx in string.gmatch(x, '[^\\n]+') do redis.call('ZREM', idx, m) end
  end
  return redis.call('DEL', k)
end
`;

/**
 * Upsert records (`recordArgs` from ARGV[5]), then trim the segment by retention and by count.
 * ARGV[1] P, ARGV[2] the retention cutoff (a BYLEX bound), ARGV[3] most warnings kept, ARGV[4]
 * most warnings one call removes. Returns how many it removed.
 */
export const APPLY_LUA = luaScript<number>(
  'warning_apply',
  `${UPSERT_RECORDS_LUA}${DROP_LUA}
local P, cutoff, max, lim = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local i = 5
while i <= #ARGV do
  indexes_of(P, ARGV[i])
  i = i + 4 + tonumber(ARGV[i + 3])
end
upsert_records(5)
local dropped = 0
for _, m in ipairs(redis.call('ZRANGE', P .. 'x:all', cutoff, '+', 'BYLEX', 'LIMIT', 0, lim)) do
  drop(P, m)
  dropped = dropped + 1
end
local n = redis.call('ZCARD', P .. 'x:all')
if n > max then
  for _, m in ipairs(redis.call('ZRANGE', P .. 'x:all', max, math.min(n - 1, max + lim - 1))) do
    drop(P, m)
    dropped = dropped + 1
  end
end
return dropped`,
);

/**
 * Move in: KEYS[1] the warning's hash in its partition's segment. ARGV[1] outcome, ARGV[2]
 * outcome list ('' = none), then the warning as one record (`recordArgs`). Writes only when the
 * partition has no such warning yet (its owner's commits are newer); 1 written, 0 not.
 */
export const MOVE_IN_LUA = luaScript<number>(
  'warning_move_in',
  `${UPSERT_RECORDS_LUA}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
upsert_records(3)
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'o', ARGV[1]) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'l', ARGV[2]) end
return 1`,
);

/** Remove one warning from a segment: ARGV[1] P, ARGV[2] its index member. */
export const REMOVE_LUA = luaScript<number>(
  'warning_remove',
  `${DROP_LUA}
return drop(ARGV[1], ARGV[2])`,
);

/**
 * Returns {code, incident, outcome, outcomes}: 0 unknown id, 1 stored, 2 duplicate annotation, 3
 * kept the existing outcome. Stored and kept outcomes are both appended to the list (`l`, at
 * most ARGV[8] of them), which starts from `o` for a warning stored before lists existed. The idempotency mark holds the call's token and its code: the same call run
 * again (ioredis re-sends a command after REDIS_SOCKET_TIMEOUT_MS) answers as it did the first
 * time, instead of as a duplicate of itself (which would skip its annotation line).
 */
export const OUTCOME_LUA = luaScript<[number, string?, (string | null)?, (string | null)?]>(
  'warning_outcome',
  `
local P, id, json, overwrite, idem, ttl, token = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local maxList = tonumber(ARGV[8])
local k = P .. 'w:' .. id
if redis.call('EXISTS', k) == 0 then return {0} end
local seen = P .. 'seen:' .. idem
local code = 1
if idem ~= '' then
  local prev = redis.call('GET', seen)
  if prev and string.sub(prev, 1, #token + 1) == token .. ':' then
    local r = redis.call('HMGET', k, 'i', 'o', 'l')
    return {tonumber(string.sub(prev, #token + 2)), r[1], r[2], r[3]}
  end
  if prev then code = 2 end
end
local cur = redis.call('HGET', k, 'o')
if code == 1 and overwrite == '0' and cur and cjson.decode(cur).outcome_type ~= 'none' then code = 3 end
if code ~= 2 then
  local l = redis.call('HGET', k, 'l') or (cur and ('[' .. cur .. ']')) or '[]'
  if #cjson.decode(l) < maxList then
    if l == '[]' then l = '[' .. json .. ']' else l = string.sub(l, 1, -2) .. ',' .. json .. ']' end
    redis.call('HSET', k, 'l', l)
  end
end
if code == 1 then redis.call('HSET', k, 'o', json) end
if idem ~= '' and code ~= 2 then redis.call('SET', seen, token .. ':' .. code, 'EX', ttl) end
local r = redis.call('HMGET', k, 'i', 'o', 'l')
return {code, r[1], r[2], r[3]}`,
);
