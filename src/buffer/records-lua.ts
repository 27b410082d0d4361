/**
 * Records written beside a partition's checkpoint (`CommitRecord`: the pilot's warnings), in one
 * slot, idempotently: the same records upserted twice leave what one upsert leaves.
 *
 *   hash <key>: i = value, m = member, x = the index keys (one a line)
 *   zset <index>: member, score 0 (ordered by member)
 *
 * A record whose member or indexes changed leaves its old index entries first.
 */
import type { CommitRecord } from './buffer.js';
import { luaScript } from './redis-script.js';

/**
 * Lua: `upsert_records(first)` upserts the records laid out in ARGV from `first` on
 * (`recordArgs`). Prepended to the scripts that write records.
 */
export const UPSERT_RECORDS_LUA = `
local function upsert_records(first)
  local i = first
  while i <= #ARGV do
    local k, v, m, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
    local x = table.concat(ARGV, '\\n', i + 4, i + 3 + n)
    local old = redis.call('HMGET', k, 'm', 'x')
    if old[1] and old[2] and (old[1] ~= m or old[2] ~= x) then
      for idx in string.gmatch(old[2], '[^\\n]+') do redis.call('ZREM', idx, old[1]) end
    end
    redis.call('HSET', k, 'i', v, 'm', m, 'x', x)
    for j = i + 4, i + 3 + n do redis.call('ZADD', ARGV[j], 0, m) end
    i = i + 4 + n
  end
end
`;

/** The records as ARGV: per record its key, value, member, index count and indexes. */
export function recordArgs(records: readonly CommitRecord[]): string[] {
  const out: string[] = [];
  for (const r of records) out.push(r.key, r.value, r.member, String(r.indexes.length), ...r.indexes);
  return out;
}

/** Every key the records touch, to declare them (one slot: the caller groups records by it). */
export function recordKeys(records: readonly CommitRecord[]): string[] {
  const out: string[] = [];
  for (const r of records) out.push(r.key, ...r.indexes);
  return out;
}

/** Upsert records outside a commit: KEYS their keys (one slot), ARGV `recordArgs`. */
export const UPSERT_SCRIPT = luaScript<number>(
  'records_upsert',
  `${UPSERT_RECORDS_LUA}
upsert_records(1)
return 1
`,
);
