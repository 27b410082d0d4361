/**
 * The event buffer's Lua scripts, run atomically inside Redis through `runScript`
 * (redis-script.ts).
 */
import { luaScript } from './redis-script.js';

/**
 * Dedup + append for a micro-batch.
 * KEYS[1] the stream; KEYS[2..n] one dedup key per event.
 * ARGV[1] dedup TTL (s); ARGV[2..n] the event payloads (ARGV[i] goes with KEYS[i]).
 * Returns one integer per event: 1 appended, 0 duplicate.
 *
 * An entry is one field, `e`. When it was stored is its id's time part (Redis's clock at the
 * XADD): a separate ingest-time field cost 17 B per entry (6 % of the stream's memory) and
 * script work, for a value the id already carries.
 *
 * The mark is set first (SET NX is the check), then the entry is appended; if the append fails
 * the mark is deleted before the error is returned, so a failed append never leaves a mark
 * behind and the client's retry is accepted. Entries appended earlier in the same call stay:
 * the retry sees them as duplicates, which is still exactly one stored copy.
 */
export const APPEND_SCRIPT = luaScript<number[]>(
  'append',
  `
local ttl = ARGV[1]
local out = {}
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ttl) then
    local r = redis.pcall('XADD', KEYS[1], '*', 'e', ARGV[i])
    if type(r) == 'table' and r.err then
      redis.call('DEL', KEYS[i])
      return r
    end
    out[i - 1] = 1
  else
    out[i - 1] = 0
  end
end
return out
`,
);

/**
 * Retention that never removes an entry the group has not delivered and acknowledged.
 * KEYS[1] the stream. ARGV[1] group; ARGV[2] max length (0 = no cap); ARGV[3] TTL floor id.
 * Returns {trimmed by length, trimmed by age, entries over the cap kept because unacked}.
 *
 *   oldest ─────────────── safe ──────────── last-delivered ─────── newest
 *   [ acked: may be trimmed ) [ pending or acked ]  [ lag: undelivered ]
 *
 * `safe` is the oldest pending id, or the id right after last-delivered when nothing is
 * pending. Everything at or after `safe` is protected. Trimming is approximate (~): it removes
 * whole radix-tree nodes only, so it can keep a few extra entries but never removes more than
 * asked, which keeps the protected range intact.
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
    byLength = redis.call('XTRIM', stream, 'MAXLEN', '~', maxlen)
  else
    -- Everything unprotected goes; what is left is (about) the protected backlog, which the
    -- count above only bounded. Measure it after the trim instead.
    byLength = redis.call('XTRIM', stream, 'MINID', '~', safe)
    overCap = math.max(0, redis.call('XLEN', stream) - maxlen)
  end
end
local floor = ttlFloor
if less(safe, floor) then floor = safe end
local byAge = redis.call('XTRIM', stream, 'MINID', '~', floor)
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
