/**
 * The warning store: incidents and their outcomes in Redis, bounded, retained, indexed by time,
 * processor and status, surviving restarts.
 *
 * Layout under `<keyPrefix>pilot:`
 *   w:<id>                 hash  i = incident JSON, o = outcome JSON, l = every outcome (JSON array,
 *                                in recording order), p/s/m = processor, status, index member
 *   x:all, x:p:<proc>,     zsets, every score 0, member `<13-digit inverted processed_at ms>:<id>`:
 *   x:s:<status>,          lexicographic order is newest first, so a page is one ZRANGE BYLEX from
 *   x:ps:<status>:<proc>   the cursor and the oldest entries are the lexicographic tail (cheap trims)
 *   seen:<key>             idempotency marks of automatic annotations: `<call token>:<code>` (TTL)
 * Incident and outcome live in separate hash fields so that the pipeline's updates never overwrite
 * an outcome recorded through the API in between.
 */
import { luaScript, runScript } from '../buffer/redis-script.js';
import { randomUUID } from 'node:crypto';
import type { RedisClient as Redis } from '../buffer/redis-client.js';
import { PayFluxError } from '../errors.js';
import type { Incident, IncidentStatus, IncidentTransition } from '../operators/track-incidents.js';
import { MAX_OUTCOMES, toIncident, toWarning, type Outcome, type Warning } from './warning.js';

const INV = 9_999_999_999_999;
const MEMBER_RE = /^\d{13}:.+$/;

/** Upsert transitions (last snapshot per warning), then trim by retention and by count. */
const APPLY_LUA = luaScript<number>(
  'warning_apply',
  `
local P, cutoff, max, lim = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local function unindex(m, p, s)
  redis.call('ZREM', P .. 'x:all', m)
  redis.call('ZREM', P .. 'x:p:' .. p, m)
  redis.call('ZREM', P .. 'x:s:' .. s, m)
  redis.call('ZREM', P .. 'x:ps:' .. s .. ':' .. p, m)
end
local function drop(m)
  local k = P .. 'w:' .. string.sub(m, 15)
  local f = redis.call('HMGET', k, 'p', 's')
  redis.call('ZREM', P .. 'x:all', m)
  if f[1] then unindex(m, f[1], f[2]) end
  redis.call('DEL', k)
end
for i = 5, #ARGV, 5 do
  local id, p, s, m = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local k = P .. 'w:' .. id
  local old = redis.call('HMGET', k, 'p', 's', 'm')
  if old[1] and (old[1] ~= p or old[2] ~= s or old[3] ~= m) then unindex(old[3], old[1], old[2]) end
  redis.call('HSET', k, 'i', ARGV[i + 4], 'p', p, 's', s, 'm', m)
  redis.call('ZADD', P .. 'x:all', 0, m)
  redis.call('ZADD', P .. 'x:p:' .. p, 0, m)
  redis.call('ZADD', P .. 'x:s:' .. s, 0, m)
  redis.call('ZADD', P .. 'x:ps:' .. s .. ':' .. p, 0, m)
end
local dropped = 0
for _, m in ipairs(redis.call('ZRANGE', P .. 'x:all', cutoff, '+', 'BYLEX', 'LIMIT', 0, lim)) do
  drop(m)
  dropped = dropped + 1
end
local n = redis.call('ZCARD', P .. 'x:all')
if n > max then
  for _, m in ipairs(redis.call('ZRANGE', P .. 'x:all', max, math.min(n - 1, max + lim - 1))) do
    drop(m)
    dropped = dropped + 1
  end
end
return dropped`,
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

export interface WarningStoreOptions {
  /** A connection owned by the caller (not closed by the store); shared use is fine. */
  readonly redis: Redis;
  /** The deployment's key prefix (`config.buffer.keyPrefix`); the store appends `pilot:`. */
  readonly keyPrefix: string;
  readonly maxWarnings: number;
  readonly retentionDays: number;
  /** Wall clock for retention, epoch ms. */
  readonly now?: () => number;
  /** Most warnings one call removes when trimming (bounds the time Redis spends in the script). */
  readonly trimBatch?: number;
}

export interface WarningQuery {
  readonly processor?: string | undefined;
  readonly status?: IncidentStatus | undefined;
  /** 1..500. */
  readonly limit: number;
  /** `next_cursor` of the previous page. */
  readonly cursor?: string | undefined;
}

export interface WarningPage {
  readonly warnings: Warning[];
  /** Null on the last page. */
  readonly nextCursor: string | null;
}

export type RecordOutcomeResult =
  { readonly status: 'unknown' } | { readonly status: 'stored' | 'kept' | 'duplicate'; readonly warning: Warning };

export interface RecordOutcomeOptions {
  /** False: keep an outcome already stored (other than `none`). Manual corrections overwrite. */
  readonly overwrite?: boolean;
  /** An annotation seen before under this key (e.g. a redelivered Stripe event) is not applied again. */
  readonly idempotencyKey?: string;
}

export interface WarningStore {
  /** Persist a batch's transitions in one round trip; trims by retention and count on the way. */
  applyTransitions(transitions: readonly IncidentTransition[]): Promise<void>;
  /** Newest first (by `processed_at`), filtered, paged with an opaque cursor. */
  list(query: WarningQuery): Promise<WarningPage>;
  get(id: string): Promise<Warning | undefined>;
  recordOutcome(id: string, outcome: Outcome, options?: RecordOutcomeOptions): Promise<RecordOutcomeResult>;
  /** The open incidents, to seed `trackIncidents` at start. */
  loadOpen(): Promise<Incident[]>;
  /** Apply retention and the count bound now; returns how many warnings were removed. */
  trim(): Promise<number>;
}

const IDEMPOTENCY_TTL_SEC = 7 * 86_400;

function memberFor(i: Incident): string {
  const ms = Math.min(INV, Math.max(0, Date.parse(i.processed_at) || 0));
  return `${String(INV - ms).padStart(13, '0')}:${i.warning_id}`;
}

function decodeCursor(cursor: string): string {
  const member = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!MEMBER_RE.test(member))
    throw new PayFluxError('PF_ERR_VALIDATION', 'cursor is not a cursor this API returned', { field: 'cursor' });
  return member;
}

function parse(
  incident: string | null | undefined,
  outcome: string | null | undefined,
  outcomes: string | null | undefined,
): Warning | undefined {
  if (incident === null || incident === undefined) return undefined;
  return toWarning(
    JSON.parse(incident) as Incident,
    outcome === null || outcome === undefined ? undefined : (JSON.parse(outcome) as Outcome),
    outcomes === null || outcomes === undefined ? undefined : (JSON.parse(outcomes) as Outcome[]),
  );
}

export function createWarningStore(options: WarningStoreOptions): WarningStore {
  const { redis, maxWarnings } = options;
  const P = `${options.keyPrefix}pilot:`;
  const retentionMs = options.retentionDays * 86_400_000;
  const now = options.now ?? Date.now;
  const trimBatch = options.trimBatch ?? 200;

  const apply = (transitions: readonly IncidentTransition[]): Promise<number> => {
    // Only the last snapshot of each warning matters: transitions are in order.
    const last = new Map<string, Incident>();
    for (const t of transitions) last.set(t.incident.warning_id, t.incident);
    const cutoffMs = Math.max(0, now() - retentionMs);
    const args: (string | number)[] = [P, `[${String(INV - cutoffMs + 1).padStart(13, '0')}`, maxWarnings, trimBatch];
    for (const i of last.values()) args.push(i.warning_id, i.processor, i.status, memberFor(i), JSON.stringify(i));
    // Declared keys route the script to the pilot's slot; the trim also touches older warnings'
    // keys found in the index, all under the same prefix (one hash tag on a Cluster).
    const keys = [`${P}x:all`];
    for (const i of last.values()) keys.push(`${P}w:${i.warning_id}`);
    return runScript(redis, APPLY_LUA, keys, args);
  };

  const fetch = async (ids: readonly string[]): Promise<Warning[]> => {
    if (ids.length === 0) return [];
    const pipe = redis.pipeline();
    for (const id of ids) pipe.hmget(`${P}w:${id}`, 'i', 'o', 'l');
    const replies = (await pipe.exec()) ?? [];
    const out: Warning[] = [];
    for (const [err, value] of replies) {
      if (err) throw err;
      const [i, o, l] = value as [string | null, string | null, string | null];
      const w = parse(i, o, l);
      if (w !== undefined) out.push(w); // removed by a trim between the two round trips
    }
    return out;
  };

  return {
    async applyTransitions(transitions) {
      await apply(transitions);
    },

    trim: () => apply([]),

    async list(q) {
      const key =
        q.processor !== undefined && q.status !== undefined
          ? `${P}x:ps:${q.status}:${q.processor}`
          : q.processor !== undefined
            ? `${P}x:p:${q.processor}`
            : q.status !== undefined
              ? `${P}x:s:${q.status}`
              : `${P}x:all`;
      const limit = Math.min(500, Math.max(1, Math.trunc(q.limit)));
      const start = q.cursor === undefined ? '-' : `(${decodeCursor(q.cursor)}`;
      const members = await redis.zrange(key, start, '+', 'BYLEX', 'LIMIT', 0, limit + 1);
      const page = members.slice(0, limit);
      const lastMember = page[page.length - 1];
      const nextCursor =
        members.length > limit && lastMember !== undefined ? Buffer.from(lastMember).toString('base64url') : null;
      return { warnings: await fetch(page.map((m) => m.slice(14))), nextCursor };
    },

    async get(id) {
      const [i, o, l] = await redis.hmget(`${P}w:${id}`, 'i', 'o', 'l');
      return parse(i, o, l);
    },

    async recordOutcome(id, outcome, opts = {}) {
      const [code, i, o, l] = await runScript(
        redis,
        OUTCOME_LUA,
        [`${P}w:${id}`],
        [
          P,
          id,
          JSON.stringify(outcome),
          opts.overwrite === false ? '0' : '1',
          opts.idempotencyKey ?? '',
          IDEMPOTENCY_TTL_SEC,
          randomUUID(),
          MAX_OUTCOMES,
        ],
      );
      const warning = parse(i, o, l);
      if (code === 0 || warning === undefined) return { status: 'unknown' };
      return { status: code === 2 ? 'duplicate' : code === 3 ? 'kept' : 'stored', warning };
    },

    async loadOpen() {
      // Bounded by the configured processors: at most one open incident each.
      const members = await redis.zrange(`${P}x:s:open`, 0, '9999');
      const warnings = await fetch(members.map((m) => m.slice(14)));
      return warnings.map(toIncident);
    },
  };
}
