import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { firstValueFrom, of } from 'rxjs';
import { useRedis } from '../../support/use-redis.js';
import { runScript } from '../../../src/buffer/redis-script.js';
import {
  createWarningStore,
  OUTCOME_LUA,
  warningSegments,
  type WarningStore,
} from '../../../src/pilot/warning-store.js';
import { partitionTags } from '../../../src/buffer/partitions.js';
import { trackIncidents } from '../../../src/operators/track-incidents.js';
import { batchOf, incident, scored, transition } from './fixtures.js';

const suite = useRedis();
const NOW = Date.parse('2024-05-02T00:00:00Z');

/** A store under the test's prefix, on a connection of its own (a restart is a new store). */
function open(
  opts: { maxWarnings?: number; retentionDays?: number; now?: () => number; partitions?: readonly string[] } = {},
): {
  store: WarningStore;
  redis: Redis;
} {
  const redis = new Redis(suite.server.url, { lazyConnect: false });
  suite.defer(() => redis.disconnect());
  return {
    redis,
    store: createWarningStore({
      redis,
      keyPrefix: suite.prefix,
      maxWarnings: opts.maxWarnings ?? 100,
      retentionDays: opts.retentionDays ?? 90,
      now: opts.now ?? (() => NOW),
      segments: opts.partitions && warningSegments(suite.prefix, partitionTags(opts.partitions)),
    }),
  };
}

const OUTCOME = {
  outcome_type: 'hold',
  outcome_timestamp: '2024-05-01T10:00:00Z',
  outcome_source: 'manual',
  outcome_notes: null,
} as const;

const at = (min: number): string => new Date(Date.parse('2024-05-01T09:00:00Z') + min * 60_000).toISOString();

describe('warning store', () => {
  it('continues an open incident across a restart: a new store and operator seeded from loadOpen()', async () => {
    const t0 = Date.parse('2024-05-01T09:00:00Z');
    const first = await firstValueFrom(
      // Elevated held for the hold (10 s) opens the incident.
      of(batchOf(scored('stripe', t0, 0.4, 'elevated'), scored('stripe', t0 + 10_000, 0.4, 'elevated'))).pipe(
        trackIncidents({ cooldownSec: 120, now: () => NOW }),
      ),
    );
    await open().store.applyTransitions(first.transitions);

    const restarted = open().store; // new connection, new instance: nothing shared in memory
    const seed = await restarted.loadOpen();
    expect(seed.map((i) => i.warning_id)).toEqual([first.transitions[0]!.incident.warning_id]);
    const next = await firstValueFrom(
      of(batchOf(scored('stripe', t0 + 30_000, 0.7, 'high'))).pipe(
        trackIncidents({ cooldownSec: 120, now: () => NOW + 1, seed }),
      ),
    );
    expect(next.transitions.map((t) => t.kind)).toEqual(['escalate']);
    await restarted.applyTransitions(next.transitions);

    const page = await restarted.list({ limit: 10 });
    expect(page.warnings).toHaveLength(1);
    expect(page.warnings[0]).toMatchObject({
      warning_id: seed[0]!.warning_id,
      event_count: 2,
      peak_band: 'high',
      status: 'open',
      outcome_observed: false,
      outcome_type: null,
    });
  });

  it('keeps the JSON fields of a warning in the order of the warning format', async () => {
    const { store } = open();
    await store.applyTransitions([transition('open', incident({ warning_id: 'stripe:evt_a' }))]);
    const w = await store.get('stripe:evt_a');
    expect(Object.keys(JSON.parse(JSON.stringify(w)) as object)).toEqual([
      'warning_id',
      'event_id',
      'processor',
      'merchant_id_hash',
      'processed_at',
      'event_timestamp',
      'processor_risk_score',
      'processor_risk_band',
      'processor_risk_drivers',
      'processor_risk_focus',
      'processor_playbook_context',
      'risk_trajectory',
      'outcome_observed',
      'outcome_type',
      'outcome_timestamp',
      'outcome_source',
      'outcome_notes',
      'outcomes',
      'status',
      'opened_at',
      'resolved_at',
      'peak_score',
      'peak_band',
      'event_count',
    ]);
    expect(await store.get('stripe:nope')).toBeUndefined();
  });

  it('lists newest first, filters by processor and status, and pages with a cursor to the end', async () => {
    const { store } = open();
    const all = [
      incident({ warning_id: 'stripe:e1', processed_at: at(1), status: 'resolved', resolved_at: at(5) }),
      incident({ warning_id: 'adyen:e2', processor: 'adyen', processed_at: at(2) }),
      incident({ warning_id: 'stripe:e3', processed_at: at(3) }),
      incident({ warning_id: 'stripe:e4', processed_at: at(4), status: 'resolved', resolved_at: at(6) }),
      incident({ warning_id: 'stripe:e5', processed_at: at(5) }),
    ];
    await store.applyTransitions(all.map((i) => transition('open', i)));
    const ids = async (q: Parameters<WarningStore['list']>[0]): Promise<string[]> =>
      (await store.list(q)).warnings.map((w) => w.warning_id);
    expect(await ids({ limit: 500 })).toEqual(['stripe:e5', 'stripe:e4', 'stripe:e3', 'adyen:e2', 'stripe:e1']);
    expect(await ids({ limit: 10, processor: 'stripe' })).toEqual(['stripe:e5', 'stripe:e4', 'stripe:e3', 'stripe:e1']);
    expect(await ids({ limit: 10, status: 'open' })).toEqual(['stripe:e5', 'stripe:e3', 'adyen:e2']);
    expect(await ids({ limit: 10, processor: 'stripe', status: 'resolved' })).toEqual(['stripe:e4', 'stripe:e1']);

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await store.list({ limit: 2, cursor });
      seen.push(...page.warnings.map((w) => w.warning_id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(['stripe:e5', 'stripe:e4', 'stripe:e3', 'adyen:e2', 'stripe:e1']);
    await expect(store.list({ limit: 2, cursor: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({
      code: 'PF_ERR_VALIDATION',
      field: 'cursor',
    });
  });

  it('keeps a partition’s warnings in its slot and lists every segment merged, newest first, paged', async () => {
    const { store, redis } = open({ partitions: ['stripe', 'adyen'] });
    const all = [
      incident({ warning_id: 'stripe:e1', processed_at: at(1), status: 'resolved', resolved_at: at(5) }),
      incident({ warning_id: 'adyen:e2', processor: 'adyen', processed_at: at(2) }),
      incident({ warning_id: 'internal:e3', processor: 'internal', processed_at: at(3) }),
      incident({ warning_id: 'stripe:e4', processed_at: at(4) }),
      incident({ warning_id: 'adyen:e5', processor: 'adyen', processed_at: at(5), status: 'resolved' }),
    ];
    await store.applyTransitions(all.map((i) => transition('open', i)));
    const tags = partitionTags(['stripe', 'adyen']);
    expect(await redis.exists(`${suite.prefix}pilot:{${tags.get('stripe') ?? ''}}:w:stripe:e4`)).toBe(1);
    expect(await redis.exists(`${suite.prefix}pilot:w:internal:e3`)).toBe(1);
    const ids = async (q: Parameters<WarningStore['list']>[0]): Promise<string[]> =>
      (await store.list(q)).warnings.map((w) => w.warning_id);
    expect(await ids({ limit: 500 })).toEqual(['adyen:e5', 'stripe:e4', 'internal:e3', 'adyen:e2', 'stripe:e1']);
    expect(await ids({ limit: 10, status: 'open' })).toEqual(['stripe:e4', 'internal:e3', 'adyen:e2']);
    expect(await ids({ limit: 10, processor: 'adyen' })).toEqual(['adyen:e5', 'adyen:e2']);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10 && cursor !== null; pages += 1) {
      const page = await store.list({ limit: 2, cursor });
      seen.push(...page.warnings.map((w) => w.warning_id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(['adyen:e5', 'stripe:e4', 'internal:e3', 'adyen:e2', 'stripe:e1']);
    expect((await store.recordOutcome('adyen:e2', OUTCOME)).status).toBe('stored');
    expect((await store.get('adyen:e2'))?.outcome_type).toBe('hold');
    expect((await store.recordOutcome('adyen:nope', OUTCOME)).status).toBe('unknown');
  });

  it('moves an open warning stored before partitions into its partition’s segment at loadOpen, with its outcome', async () => {
    const before = open();
    const i = incident({ warning_id: 'stripe:e1', processed_at: at(1) });
    // The layout before partitions: processor and status in `p` and `s`, no `x`.
    const P = `${suite.prefix}pilot:`;
    const m = `${String(9_999_999_999_999 - Date.parse(at(1))).padStart(13, '0')}:stripe:e1`;
    await before.redis.hset(`${P}w:stripe:e1`, 'i', JSON.stringify(i), 'p', 'stripe', 's', 'open', 'm', m);
    for (const k of ['x:all', 'x:p:stripe', 'x:s:open', 'x:ps:open:stripe']) await before.redis.zadd(`${P}${k}`, 0, m);
    await before.store.recordOutcome('stripe:e1', OUTCOME);
    const { store, redis } = open({ partitions: ['stripe'] });
    expect((await store.loadOpen()).map((x) => x.warning_id)).toEqual(['stripe:e1']);
    expect(await redis.exists(`${suite.prefix}pilot:w:stripe:e1`)).toBe(0);
    for (const k of ['x:all', 'x:p:stripe', 'x:s:open', 'x:ps:open:stripe'])
      expect(await redis.zcard(`${P}${k}`)).toBe(0);
    // Its commit-written updates now land on the one copy: resolved, it leaves the open list.
    await store.applyTransitions([transition('resolve', { ...i, status: 'resolved', resolved_at: at(9) })]);
    expect(await store.list({ limit: 10, status: 'open' })).toMatchObject({ warnings: [] });
    const [w] = (await store.list({ limit: 10 })).warnings;
    expect(w).toMatchObject({ warning_id: 'stripe:e1', status: 'resolved', outcome_type: 'hold' });
  });

  it('moves a warning between status indexes when it resolves', async () => {
    const { store } = open();
    const i = incident({ warning_id: 'stripe:e1' });
    await store.applyTransitions([transition('open', i)]);
    await store.applyTransitions([transition('resolve', { ...i, status: 'resolved', resolved_at: at(9) })]);
    expect((await store.list({ limit: 10, status: 'open' })).warnings).toEqual([]);
    expect((await store.list({ limit: 10, status: 'resolved' })).warnings.map((w) => w.resolved_at)).toEqual([at(9)]);
    expect(await store.loadOpen()).toEqual([]);
  });

  it('never lets a pipeline update overwrite an outcome recorded in between', async () => {
    const { store } = open();
    const i = incident({ warning_id: 'stripe:e1' });
    await store.applyTransitions([transition('open', i)]);
    const r = await store.recordOutcome('stripe:e1', {
      outcome_type: 'throttle',
      outcome_timestamp: at(31),
      outcome_source: 'manual',
      outcome_notes: 'rate limited',
    });
    expect(r.status).toBe('stored');
    await store.applyTransitions([transition('update', { ...i, event_count: 7 })]);
    expect(await store.get('stripe:e1')).toMatchObject({
      event_count: 7,
      outcome_observed: true,
      outcome_type: 'throttle',
      outcome_timestamp: at(31),
      outcome_source: 'manual',
      outcome_notes: 'rate limited',
    });
  });

  it('records outcomes: unknown ids, idempotency keys, and automatic annotations that keep an existing outcome', async () => {
    const { store } = open();
    await store.applyTransitions([transition('open', incident({ warning_id: 'stripe:e1' }))]);
    const review = {
      outcome_type: 'review',
      outcome_timestamp: at(20),
      outcome_source: 'stripe_webhook',
      outcome_notes: null,
    } as const;
    expect(await store.recordOutcome('stripe:missing', review)).toEqual({ status: 'unknown' });
    expect((await store.recordOutcome('stripe:e1', review, { overwrite: false, idempotencyKey: 'evt_1' })).status).toBe(
      'stored',
    );
    expect((await store.recordOutcome('stripe:e1', review, { overwrite: false, idempotencyKey: 'evt_1' })).status).toBe(
      'duplicate',
    );
    const hold = { ...review, outcome_type: 'hold' } as const;
    const kept = await store.recordOutcome('stripe:e1', hold, { overwrite: false, idempotencyKey: 'evt_2' });
    expect(kept).toMatchObject({ status: 'kept', warning: { outcome_type: 'review' } });
    expect(await store.recordOutcome('stripe:e1', { ...hold, outcome_source: 'manual' })).toMatchObject({
      status: 'stored',
      warning: { outcome_type: 'hold' },
    });
  });

  it('keeps every outcome on the warning, earliest observed first, while the single outcome stays the first recorded', async () => {
    const { store, redis } = open();
    await store.applyTransitions([transition('open', incident({ warning_id: 'stripe:e2' }))]);
    const auto = { overwrite: false } as const;
    const outcome = (type: 'review' | 'hold' | 'other', min: number) =>
      ({
        outcome_type: type,
        outcome_timestamp: at(min),
        outcome_source: 'stripe_webhook',
        outcome_notes: type,
      }) as const;
    await store.recordOutcome('stripe:e2', outcome('review', 20), { ...auto, idempotencyKey: 'evt_r' });
    await store.recordOutcome('stripe:e2', outcome('hold', 45), { ...auto, idempotencyKey: 'evt_h' });
    // Delivered last, observed first (Stripe does not promise order).
    await store.recordOutcome('stripe:e2', outcome('other', 10), { ...auto, idempotencyKey: 'evt_efw' });
    // A redelivery adds nothing.
    await store.recordOutcome('stripe:e2', outcome('hold', 45), { ...auto, idempotencyKey: 'evt_h' });
    const w = await store.get('stripe:e2');
    expect(w).toMatchObject({ outcome_type: 'review', outcome_timestamp: at(20) });
    expect(w?.outcomes.map((o) => [o.outcome_type, o.outcome_timestamp])).toEqual([
      ['other', at(10)],
      ['review', at(20)],
      ['hold', at(45)],
    ]);
    expect((await store.list({ processor: 'stripe', limit: 10 })).warnings[0]?.outcomes).toHaveLength(3);

    // A warning stored before outcome lists existed: its one outcome is the list, and the next joins it.
    await store.applyTransitions([transition('open', incident({ warning_id: 'stripe:old' }))]);
    await redis.hset(`${suite.prefix}pilot:w:stripe:old`, 'o', JSON.stringify(outcome('review', 5)));
    expect((await store.get('stripe:old'))?.outcomes).toEqual([outcome('review', 5)]);
    await store.recordOutcome('stripe:old', outcome('hold', 30), auto);
    expect((await store.get('stripe:old'))?.outcomes).toEqual([outcome('review', 5), outcome('hold', 30)]);
  });

  it('answers an annotation run twice by the same call (a re-sent command) as the first run did, not as a duplicate', async () => {
    const prefix = suite.prefix;
    const { store, redis } = open();
    await store.applyTransitions([transition('open', incident({ warning_id: 'stripe:e1' }))]);
    const outcome = JSON.stringify({
      outcome_type: 'review',
      outcome_timestamp: at(20),
      outcome_source: 'stripe_webhook',
      outcome_notes: null,
    });
    const run = (token: string) =>
      runScript(redis, OUTCOME_LUA, [], [`${prefix}pilot:`, 'stripe:e1', outcome, '0', 'evt_9', 60, token, 100]);
    expect((await run('call-1'))[0]).toBe(1);
    expect((await run('call-1'))[0]).toBe(1);
    expect((await run('call-2'))[0]).toBe(2);
  });

  it('is bounded by maxWarnings, dropping the oldest with their index entries', async () => {
    const prefix = suite.prefix;
    const { store, redis } = open({ maxWarnings: 10 });
    const many = Array.from({ length: 25 }, (_, n) =>
      incident({ warning_id: `stripe:e${n}`, processed_at: at(n), status: n % 2 ? 'open' : 'resolved' }),
    );
    await store.applyTransitions(many.map((i) => transition('open', i)));
    const page = await store.list({ limit: 500 });
    expect(page.warnings.map((w) => w.warning_id)).toEqual(Array.from({ length: 10 }, (_, n) => `stripe:e${24 - n}`));
    const sizes = await Promise.all(
      ['x:p:stripe', 'x:s:open', 'x:s:resolved'].map((k) => redis.zcard(`${prefix}pilot:${k}`)),
    );
    expect(sizes[0]).toBe(10);
    expect(sizes[1]! + sizes[2]!).toBe(10);
    expect(await store.get('stripe:e0')).toBeUndefined();
  });

  it('drops warnings older than the retention, relative to the wall clock', async () => {
    let now = Date.parse('2024-05-01T10:00:00Z');
    const { store } = open({ retentionDays: 1, now: () => now });
    await store.applyTransitions([
      transition('open', incident({ warning_id: 'stripe:old', processed_at: at(0) })),
      transition('open', incident({ warning_id: 'stripe:new', processed_at: at(50) })),
    ]);
    expect((await store.list({ limit: 10 })).warnings).toHaveLength(2);
    now = Date.parse(at(30)) + 86_400_000;
    expect(await store.trim()).toBe(1);
    expect((await store.list({ limit: 10 })).warnings.map((w) => w.warning_id)).toEqual(['stripe:new']);
  });
});
