/**
 * The warning store: incidents and their outcomes in Redis, bounded, retained, indexed by time,
 * processor and status, surviving restarts.
 *
 * Warnings live in segments, each in one slot: a processor with a partition has its own (prefix
 * `<keyPrefix>pilot:{<partition tag>}:`), so that the partition's commit writes the batch's
 * warnings with its acks and checkpoint, under its fence (`records`, buffer/ownership.ts); other
 * processors' warnings, and those stored before partitions existed, are in the default segment
 * (`<keyPrefix>[{pf}]pilot:`). Lists merge the segments; an id is looked up in its processor's
 * segment, then the default one.
 *
 * Layout of a segment under its prefix P
 *   w:<id>                 hash  i = incident JSON, o = outcome JSON, l = every outcome (JSON array,
 *                                in recording order), m = index member, x = its index keys
 *   x:all, x:p:<proc>,     zsets, every score 0, member `<13-digit inverted processed_at ms>:<id>`:
 *   x:s:<status>,          lexicographic order is newest first, so a page is one ZRANGE BYLEX from
 *   x:ps:<status>:<proc>   the cursor and the oldest entries are the lexicographic tail (cheap trims)
 *   seen:<key>             idempotency marks of automatic annotations: `<call token>:<code>` (TTL)
 * Incident and outcome live in separate hash fields so that the pipeline's updates never overwrite
 * an outcome recorded through the API in between.
 */
import { randomUUID } from 'node:crypto';
import type { CommitRecord } from '../buffer/buffer.js';
import { recordArgs, recordKeys } from '../buffer/records-lua.js';
import { runScript } from '../buffer/redis-script.js';
import type { RedisClient as Redis } from '../buffer/redis-client.js';
import { PayFluxError } from '../errors.js';
import type { Incident, IncidentStatus, IncidentTransition } from '../operators/track-incidents.js';
import { APPLY_LUA, MOVE_IN_LUA, OUTCOME_LUA, REMOVE_LUA } from './warning-lua.js';
import { MAX_OUTCOMES, toIncident, toWarning, type Outcome, type Warning } from './warning.js';

export { OUTCOME_LUA } from './warning-lua.js';

const INV = 9_999_999_999_999;
const MEMBER_RE = /^\d{13}:.+$/;

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
  /**
   * The segment prefix of each processor with a partition (`warningSegments`); a processor not
   * in it keeps its warnings in the default segment.
   */
  readonly segments?: ReadonlyMap<string, string>;
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
  /** Persist a batch's transitions now (outside a commit); trims by retention and count on the way. */
  applyTransitions(transitions: readonly IncidentTransition[]): Promise<void>;
  /** A batch's transitions as records for its partitions' commits, by processor (last snapshot per warning). */
  records(transitions: readonly IncidentTransition[]): Map<string, CommitRecord[]>;
  /** Newest first (by `processed_at`), filtered, paged with an opaque cursor. */
  list(query: WarningQuery): Promise<WarningPage>;
  get(id: string): Promise<Warning | undefined>;
  recordOutcome(id: string, outcome: Outcome, options?: RecordOutcomeOptions): Promise<RecordOutcomeResult>;
  /**
   * The open incidents, to seed `trackIncidents` at start. An open warning of a processor with a
   * partition still in the default segment (stored before partitions) is moved to its segment.
   */
  loadOpen(): Promise<Incident[]>;
  /** Apply retention and the count bound (per segment) now; returns how many warnings were removed. */
  trim(): Promise<number>;
}

const IDEMPOTENCY_TTL_SEC = 7 * 86_400;

/** The segment prefix of each processor's partition, from its hash tag (buffer/partitions.ts). */
export function warningSegments(keyPrefix: string, tags: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [processor, tag] of tags) out.set(processor, `${keyPrefix}pilot:{${tag}}:`);
  return out;
}

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
  const P0 = `${options.keyPrefix}pilot:`;
  const segments = options.segments ?? new Map<string, string>();
  const retentionMs = options.retentionDays * 86_400_000;
  const now = options.now ?? Date.now;
  const trimBatch = options.trimBatch ?? 200;
  /** Every segment, the default one last (a warning in both is its processor segment's). */
  const all = [...new Set(segments.values())].concat(P0);
  const segmentOf = (processor: string): string => segments.get(processor) ?? P0;
  /** Where a warning id may be: its processor's segment (the longest processor the id starts with), then the default. */
  const segmentsOfId = (id: string): string[] => {
    let best = '';
    for (const processor of segments.keys())
      if (id.startsWith(`${processor}:`) && processor.length > best.length) best = processor;
    return best === '' ? [P0] : [segmentOf(best), P0];
  };

  const recordOf = (i: Incident): CommitRecord => {
    const P = segmentOf(i.processor);
    const p = i.processor;
    const s = i.status;
    return {
      key: `${P}w:${i.warning_id}`,
      value: JSON.stringify(i),
      member: memberFor(i),
      indexes: [`${P}x:all`, `${P}x:p:${p}`, `${P}x:s:${s}`, `${P}x:ps:${s}:${p}`],
    };
  };
  const records = (transitions: readonly IncidentTransition[]): Map<string, CommitRecord[]> => {
    // Only the last snapshot of each warning matters: transitions are in order.
    const last = new Map<string, Incident>();
    for (const t of transitions) last.set(t.incident.warning_id, t.incident);
    const out = new Map<string, CommitRecord[]>();
    for (const i of last.values()) {
      const list = out.get(i.processor);
      if (list === undefined) out.set(i.processor, [recordOf(i)]);
      else list.push(recordOf(i));
    }
    return out;
  };

  /** Upsert `list` into segment P and trim it, in one script in its slot. */
  const apply = (P: string, list: readonly CommitRecord[]): Promise<number> => {
    const cutoffMs = Math.max(0, now() - retentionMs);
    const args = [P, `[${String(INV - cutoffMs + 1).padStart(13, '0')}`, maxWarnings, trimBatch];
    // Declared keys route the script to the segment's slot; the trim also touches older warnings'
    // keys found in the index, all under the same prefix (one hash tag on a Cluster).
    return runScript(redis, APPLY_LUA, [`${P}x:all`, ...recordKeys(list)], [...args, ...recordArgs(list)]);
  };

  /** The warnings at `refs` (segment, id), in order; a warning trimmed meanwhile is left out. */
  const fetch = async (refs: readonly (readonly [string, string])[]): Promise<Warning[]> => {
    if (refs.length === 0) return [];
    // One pipeline per segment: a pipeline stays within one slot on a Cluster.
    const bySegment = new Map<string, number[]>();
    refs.forEach(([P], n) => bySegment.set(P, [...(bySegment.get(P) ?? []), n]));
    const replies: (Warning | undefined)[] = [];
    await Promise.all(
      [...bySegment].map(async ([P, at]) => {
        const pipe = redis.pipeline();
        for (const n of at) pipe.hmget(`${P}w:${refs[n]?.[1] ?? ''}`, 'i', 'o', 'l');
        const got = (await pipe.exec()) ?? [];
        got.forEach(([err, value], k) => {
          if (err) throw err;
          const [i, o, l] = value as [string | null, string | null, string | null];
          replies[at[k] ?? 0] = parse(i, o, l);
        });
      }),
    );
    return replies.filter((w): w is Warning => w !== undefined);
  };

  /** Members of `index` in each of `segs` from `start`, merged newest first; one per member. */
  const merged = async (segs: readonly string[], index: string, start: string, limit: number) => {
    const lists = await Promise.all(
      segs.map(async (P) => {
        const ms = await redis.zrange(`${P}${index}`, start, '+', 'BYLEX', 'LIMIT', 0, limit);
        return ms.map((m) => [P, m] as const);
      }),
    );
    // Stable: of a member in two segments, the processor segment's copy (listed first) stays.
    const sorted = lists.flat().sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    return sorted.filter((x, n) => n === 0 || sorted[n - 1]?.[1] !== x[1]).slice(0, limit);
  };

  return {
    records,

    async applyTransitions(transitions) {
      const bySegment = new Map<string, CommitRecord[]>();
      for (const [processor, list] of records(transitions)) {
        const P = segmentOf(processor);
        bySegment.set(P, [...(bySegment.get(P) ?? []), ...list]);
      }
      for (const [P, list] of bySegment) await apply(P, list);
    },

    async trim() {
      let dropped = 0;
      for (const P of all) dropped += await apply(P, []);
      return dropped;
    },

    async list(q) {
      const index =
        q.processor !== undefined && q.status !== undefined
          ? `x:ps:${q.status}:${q.processor}`
          : q.processor !== undefined
            ? `x:p:${q.processor}`
            : q.status !== undefined
              ? `x:s:${q.status}`
              : 'x:all';
      const segs = q.processor !== undefined ? [...new Set([segmentOf(q.processor), P0])] : all;
      const limit = Math.min(500, Math.max(1, Math.trunc(q.limit)));
      const start = q.cursor === undefined ? '-' : `(${decodeCursor(q.cursor)}`;
      const members = await merged(segs, index, start, limit + 1);
      const page = members.slice(0, limit);
      const lastMember = page[page.length - 1]?.[1];
      const nextCursor =
        members.length > limit && lastMember !== undefined ? Buffer.from(lastMember).toString('base64url') : null;
      return { warnings: await fetch(page.map(([P, m]) => [P, m.slice(14)] as const)), nextCursor };
    },

    async get(id) {
      for (const P of segmentsOfId(id)) {
        const [i, o, l] = await redis.hmget(`${P}w:${id}`, 'i', 'o', 'l');
        const w = parse(i, o, l);
        if (w !== undefined) return w;
      }
      return undefined;
    },

    async recordOutcome(id, outcome, opts = {}) {
      for (const P of segmentsOfId(id)) {
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
        if (code === 0 || warning === undefined) continue;
        return { status: code === 2 ? 'duplicate' : code === 3 ? 'kept' : 'stored', warning };
      }
      return { status: 'unknown' };
    },

    async loadOpen() {
      // Bounded by the processors: at most one open incident each (per segment).
      const members = await merged(all, 'x:s:open', '-', 10_000);
      const open: Incident[] = [];
      for (const [P, m] of members) {
        const id = m.slice(14);
        const [i, o, l] = await redis.hmget(`${P}w:${id}`, 'i', 'o', 'l');
        const w = parse(i, o, l);
        if (w === undefined) continue;
        const target = segmentOf(w.processor);
        if (P !== target) {
          // Moved in first, removed after: a crash in between leaves it in both, and the next
          // start finishes the move.
          const r = recordOf(toIncident(w));
          await runScript(redis, MOVE_IN_LUA, [r.key, ...r.indexes], [o ?? '', l ?? '', ...recordArgs([r])]);
          await runScript(redis, REMOVE_LUA, [`${P}x:all`, `${P}w:${id}`], [P, m]);
        }
        if (!open.some((x) => x.warning_id === w.warning_id)) open.push(toIncident(w));
      }
      return open;
    },
  };
}
