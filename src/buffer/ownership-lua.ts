/**
 * The scripts behind partition ownership (ownership.ts). Each runs in one slot: the members set
 * and the leader lease share the `{pf}` tag (on a Cluster), a partition's lease, epoch, stream and
 * checkpoint share the partition's tag.
 */
import { UPSERT_RECORDS_LUA } from './records-lua.js';
import { luaScript } from './redis-script.js';

/**
 * Heartbeat: KEYS[1] the members zset (score = expiry, Redis's clock in ms). ARGV[1] this
 * member, ARGV[2] TTL ms. Drops expired members; returns the live ones, sorted by name.
 */
export const HEARTBEAT_SCRIPT = luaScript<string[]>(
  'heartbeat',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
table.sort(live)
return live
`,
);

/** Leave: KEYS[1] the members zset; ARGV[1] this member. */
export const LEAVE_SCRIPT = luaScript<number>('leave', `return redis.call('ZREM', KEYS[1], ARGV[1])`);

/**
 * Acquire a lease: KEYS[1] lease, KEYS[2] epoch. ARGV[1] owner, ARGV[2] TTL ms.
 * Free (or expired), or already this owner's: take it and bump the fencing epoch, which every
 * commit of an older holder then fails against. Returns the new epoch, or 0 when another owner
 * holds it.
 */
export const ACQUIRE_SCRIPT = luaScript<number>(
  'acquire',
  `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('INCR', KEYS[2])
`,
);

/**
 * Renew: KEYS[1] lease, KEYS[2] epoch. ARGV[1] owner, ARGV[2] epoch, ARGV[3] TTL ms.
 * 1 while the epoch is still ours (the lease is re-set if it had lapsed with nobody taking it),
 * 0 once another owner took it.
 */
export const RENEW_SCRIPT = luaScript<number>(
  'renew',
  `
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
`,
);

/** Release: KEYS[1] lease, KEYS[2] epoch. ARGV[1] owner, ARGV[2] epoch. Deletes the lease if still ours. */
export const RELEASE_SCRIPT = luaScript<number>(
  'release',
  `
if redis.call('GET', KEYS[2]) == ARGV[2] and redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
);

/**
 * The fenced batch commit, one script in the partition's slot: KEYS[1] stream, KEYS[2] lease,
 * KEYS[3] epoch, KEYS[4] checkpoint, then the records' keys. ARGV[1] group, ARGV[2] owner,
 * ARGV[3] epoch, ARGV[4] TTL ms, ARGV[5] the checkpoint ('' = keep), ARGV[6] how many entry ids
 * follow, the ids to acknowledge, then the records (`recordArgs`: the batch's warnings).
 *
 * Refused (0, nothing written) once the epoch moved on: another consumer owns the partition
 * and restored an older checkpoint; this one's batch will be replayed there. Otherwise the
 * acks, the checkpoint and the records land together (a crash leaves all or none), and a lease
 * still held is extended (one released at shutdown stays released).
 */
export const COMMIT_SCRIPT = luaScript<number>(
  'commit',
  `${UPSERT_RECORDS_LUA}
if redis.call('GET', KEYS[3]) ~= ARGV[3] then return 0 end
local last = 6 + tonumber(ARGV[6])
for i = 7, last, 1000 do
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, i, math.min(i + 999, last)))
end
if ARGV[5] ~= '' then redis.call('SET', KEYS[4], ARGV[5]) end
upsert_records(last + 1)
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4]) end
return 1
`,
);
