/**
 * The event buffer's Lua scripts, run atomically inside Redis through `runScript`
 * (redis-script.ts).
 */
import { luaScript } from './redis-script.js';

/** Dedup members per SMISMEMBER / SADD / SREM call: Lua's `unpack` holds at most ~8,000 values. */
const MEMBERS_PER_CALL = 1000;

/**
 * Dedup + append of a micro-batch as one packed entry (events/packed-entry.ts), dedup marks as
 * members of time-bucketed sets.
 * KEYS[1] the stream; KEYS[2] the current dedup bucket; KEYS[3] the previous one; KEYS[4] the
 * one before it, which is unlinked. ARGV[1] the bucket's TTL (s); ARGV[2] the events, joined;
 * ARGV[3] their dedup members (none twice, none empty or with a comma), in the same order,
 * joined by commas. One argument rather than one per member:
 * the client encodes each argument on its own (ioredis: ~1.2 µs an event with one argument per
 * member against ~0.55 with one for all, measured), and Redis splits it for about what it spends
 * taking the arguments one by one.
 * Returns {1} when the entry was appended and every member marked, or {0, i, …}: the positions
 * (1-based) of the events already marked, and nothing written; the caller drops them and calls
 * again with the rest.
 *
 * A mark is a member of the bucket of the time it was set; a check looks in the current and the
 * previous bucket, so an event id is refused for at least one bucket length after it was
 * accepted (PAYFLUX_DEDUP_WINDOW_SEC) and at most two. A bucket is a set of 16-char members, far
 * cheaper than a key with its own expiry per event; the whole bucket goes at once, with UNLINK
 * (freed off Redis's main thread) as soon as it is two buckets old, and by its TTL (twice the
 * window) only if nothing is appended meanwhile.
 *
 * The members are added first, then the entry appended; if the append fails the members are
 * removed before the error is returned, so a failed append leaves no mark and the retry is
 * accepted.
 */
export const APPEND_PACKED_SCRIPT = luaScript<number[]>(
  'append_packed',
  `
local m = {}
for member in string.gmatch(ARGV[3], '[^,]+') do m[#m + 1] = member end
local n = #m
local step = ${MEMBERS_PER_CALL}
local dups = {0}
for from = 1, n, step do
  local to = math.min(from + step - 1, n)
  local cur = redis.call('SMISMEMBER', KEYS[2], unpack(m, from, to))
  local prev = redis.call('SMISMEMBER', KEYS[3], unpack(m, from, to))
  for i = 1, #cur do
    if cur[i] == 1 or prev[i] == 1 then dups[#dups + 1] = from - 1 + i end
  end
end
if #dups > 1 then return dups end
for from = 1, n, step do
  redis.call('SADD', KEYS[2], unpack(m, from, math.min(from + step - 1, n)))
end
local r = redis.pcall('XADD', KEYS[1], '*', 'e', ARGV[2])
if type(r) == 'table' and r.err then
  for from = 1, n, step do
    redis.call('SREM', KEYS[2], unpack(m, from, math.min(from + step - 1, n)))
  end
  return r
end
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('UNLINK', KEYS[4])
return {1}
`,
);

/**
 * Retention that never removes an entry the group has not delivered and acknowledged.
 * KEYS[1] the stream. ARGV[1] group; ARGV[2] max length (0 = no cap); ARGV[3] TTL floor id;
 * ARGV[4] `~` (approximate) or `=` (exact).
 * Returns {trimmed by length, trimmed by age, entries over the cap kept because unacked}.
 *
 *   oldest ─────────────── safe ──────────── last-delivered ─────── newest
 *   [ acked: may be trimmed ) [ pending or acked ]  [ lag: undelivered ]
 *
 * `safe` is the oldest pending id, or the id right after last-delivered when nothing is
 * pending. Everything at or after `safe` is protected. Approximate trimming (~) removes whole
 * radix-tree nodes only, so it can keep up to ~100 extra entries but never removes more than
 * asked, which keeps the protected range intact; exact trimming (=), for packed entries, keeps
 * none (100 packed entries can be tens of thousands of events, and so few entries cost little
 * to trim exactly).
 */
export const TRIM_SCRIPT = luaScript<[number, number, number]>(
  'trim',
  `
local stream = KEYS[1]
local group = ARGV[1]
local maxlen = tonumber(ARGV[2])
local ttlFloor = ARGV[3]
if redis.call('EXISTS', stream) == 0 then return {0, 0, 0} end
local lastDelivered, lag, pending
for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local f = {}
  for j = 1, #g, 2 do f[g[j]] = g[j + 1] end
  if f['name'] == group then
    lastDelivered = f['last-delivered-id']
    lag = f['lag']
    pending = tonumber(f['pending'])
  end
end
if not lastDelivered then return {0, 0, 0} end

local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end

local safe
if pending > 0 then
  safe = redis.call('XPENDING', stream, group)[2]
else
  local ms, seq = parse(lastDelivered)
  safe = string.format('%d-%d', ms, seq + 1)
end

local byLength, overCap = 0, 0
local len = redis.call('XLEN', stream)
if maxlen > 0 and len > maxlen then
  -- Count the protected entries without reading the undelivered backlog, which can be millions
  -- long: the group's lag counts it for us; only the pending span (a few read batches between the
  -- oldest pending entry and last-delivered) is walked. Walking the whole tail instead cost Redis
  -- ~40 µs per ingested event under backlog (measured by the e2e bench).
  local protected
  if type(lag) == 'number' then
    protected = lag
    if pending > 0 then protected = protected + #redis.call('XRANGE', stream, safe, lastDelivered, 'COUNT', maxlen + 1) end
  else
    protected = #redis.call('XRANGE', stream, safe, '+', 'COUNT', maxlen + 1)
  end
  if protected <= maxlen then
    byLength = redis.call('XTRIM', stream, 'MAXLEN', ARGV[4], maxlen)
  else
    -- Everything unprotected goes; what is left is (about) the protected backlog, which the
    -- count above only bounded. Measure it after the trim instead.
    byLength = redis.call('XTRIM', stream, 'MINID', ARGV[4], safe)
    overCap = math.max(0, redis.call('XLEN', stream) - maxlen)
  end
end
local floor = ttlFloor
if less(safe, floor) then floor = safe end
local byAge = redis.call('XTRIM', stream, 'MINID', ARGV[4], floor)
return {byLength, byAge, overCap}
`,
);

/**
 * Remove the group's consumers that have nothing pending and have been idle for over a while.
 * KEYS[1] the stream. ARGV[1] group; ARGV[2] idle ms; ARGV[3] a consumer to keep (ourselves).
 * Returns the names removed.
 *
 * Atomic on purpose: XGROUP DELCONSUMER drops the consumer's pending entries, which nobody would
 * ever be delivered again. Checked from the client, a consumer could read a batch between the
 * check and the delete, and that batch would be lost.
 */
export const REMOVE_IDLE_CONSUMERS_SCRIPT = luaScript<string[]>(
  'remove_idle_consumers',
  `
local removed = {}
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for j = 1, #c, 2 do f[c[j]] = c[j + 1] end
  if f['name'] ~= ARGV[3] and f['pending'] == 0 and f['idle'] > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    removed[#removed + 1] = f['name']
  end
end
return removed
`,
);

/**
 * Entries per call of the dead-letter and replay scripts: no one script holds Redis long, or
 * outlasts REDIS_SOCKET_TIMEOUT_MS (100k dead letters in one call took ~1 s).
 */
export const SCRIPT_CHUNK = 1000;

/**
 * Move dead letters back into the stream. KEYS[1] the stream, KEYS[2] the DLQ. ARGV: pairs of
 * DLQ entry id and payload. Returns how many moved.
 *
 * Each entry is deleted from the DLQ only after its XADD succeeded: an XADD that fails ends
 * the script (redis.call raises) before its XDEL, so an entry is moved whole or stays. In a
 * MULTI, Redis would run the XDEL after a failed XADD and the entry would be gone. An entry no
 * longer in the DLQ is skipped, so running the script again (a retry, or ioredis re-sending it
 * on a new connection) moves nothing twice.
 */
export const DLQ_REPLAY_SCRIPT = luaScript<number>(
  'dlq_replay',
  `
local moved = 0
for i = 1, #ARGV, 2 do
  if #redis.call('XRANGE', KEYS[2], ARGV[i], ARGV[i]) == 1 then
    redis.call('XADD', KEYS[1], '*', 'e', ARGV[i + 1])
    redis.call('XDEL', KEYS[2], ARGV[i])
    moved = moved + 1
  end
end
return moved
`,
);

/**
 * Dead-letter events: add each event whose entry is still pending in the group to the DLQ, then
 * acknowledge the entries. KEYS[1] the stream, KEYS[2] the DLQ. ARGV[1] group, ARGV[2]
 * timestamp, then quadruples of entry id, event address (`original_id`), payload and reason;
 * the events of one entry are never split across calls. Returns how many were dead-lettered.
 *
 * Whether an entry is pending is read before anything is acknowledged, so every dead event of a
 * packed entry gets its record. An XADD that fails ends the script before any XACK, so the
 * entries stay pending and come back. An entry no longer pending (acknowledged by an earlier
 * run whose reply was lost, or by another consumer) is skipped, so a run repeated is not a
 * second DLQ record.
 */
export const DEAD_LETTER_SCRIPT = luaScript<number>(
  'dead_letter',
  `
local pending = {}
local order = {}
for i = 3, #ARGV, 4 do
  local entry = ARGV[i]
  if pending[entry] == nil then
    pending[entry] = #redis.call('XPENDING', KEYS[1], ARGV[1], entry, entry, 1) == 1
    order[#order + 1] = entry
  end
end
local n = 0
for i = 3, #ARGV, 4 do
  if pending[ARGV[i]] then
    redis.call('XADD', KEYS[2], '*', 'data', ARGV[i + 2], 'original_id', ARGV[i + 1], 'reason', ARGV[i + 3], 'timestamp', ARGV[2])
    n = n + 1
  end
end
for _, entry in ipairs(order) do
  if pending[entry] then redis.call('XACK', KEYS[1], ARGV[1], entry) end
end
return n
`,
);
