/**
 * The batch commit writes the batch's warnings (buffer/ownership.ts, COMMIT_SCRIPT): with the
 * acks and the checkpoint, in the partition's slot, under its fence. A consumer whose epoch moved
 * on writes none of them; a warning of another partition it holds goes under that partition's
 * fence; one of a processor without a partition is upserted in the default segment.
 */
import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import type { CommitRecord, OwnershipHooks, StreamEntry } from '../../../src/buffer/buffer.js';
import { partitionLayout, partitionTags, type Partition } from '../../../src/buffer/partitions.js';
import { createWarningStore, warningSegments } from '../../../src/pilot/warning-store.js';
import { testBuffer } from '../../support/buffer.js';
import { useRedis } from '../../support/use-redis.js';
import { incident, transition } from '../pilot/fixtures.js';

const suite = useRedis();
const PROCESSORS = ['stripe', 'adyen'];

async function setUp() {
  const { buffer, stream, prefix } = await testBuffer(suite, { processors: PROCESSORS, leaseMs: 1200 });
  const layout = partitionLayout({ processors: PROCESSORS, keyPrefix: prefix, stream, dlqStream: `${prefix}dlq` });
  const store = createWarningStore({
    redis: suite.redis,
    keyPrefix: prefix,
    maxWarnings: 100,
    retentionDays: 3650,
    segments: warningSegments(prefix, partitionTags(PROCESSORS)),
  });
  for (const p of PROCESSORS)
    for (let i = 0; i < 3; i++) await buffer.append([{ dedupKey: `${p}-${i}`, payload: `{"p":"${p}"}`, partition: p }]);
  let staged = new Map<string, CommitRecord[]>();
  const hooks: OwnershipHooks = {
    restore: () => undefined,
    forget: () => undefined,
    checkpoint: (p) => `{"p":"${p}"}`,
    takeRecords: () => {
      const out = staged;
      staged = new Map();
      return out;
    },
  };
  const reader = await buffer.openReader('a', hooks);
  suite.defer(() => reader.close());
  const partition = (name: string): Partition => {
    const p = layout.partitionOf(name);
    if (p === undefined) throw new Error(name);
    return p;
  };
  return {
    reader,
    store,
    partition,
    /** Stage an open warning of each processor for the next ack. */
    stage: (...processors: string[]) =>
      (staged = store.records(
        processors.map((p) => transition('open', incident({ warning_id: `${p}:evt_${p}`, processor: p }))),
      )),
    /** What another consumer's takeover does: its own lease, a new epoch. */
    steal: async (name: string) => {
      await suite.redis.set(partition(name).lease, 'b', 'PX', 60_000);
      await suite.redis.incr(partition(name).epoch);
    },
    pending: async (name: string) => ((await suite.redis.xpending(partition(name).stream, 'g')) as [number])[0],
  };
}

const partitionOf = (entries: readonly StreamEntry[]): string =>
  PROCESSORS.find((p) => entries.every((e) => e.payload?.includes(`"p":"${p}"`))) ?? 'mixed';

describe('the batch commit and its warnings', { timeout: 20_000 }, () => {
  it('writes the batch’s warning with its acks and checkpoint, in the partition’s slot', async () => {
    const t = await setUp();
    const batch = await t.reader.read(100, 200);
    const name = partitionOf(batch);
    expect(PROCESSORS).toContain(name);
    const [record] = t.stage(name).get(name) ?? [];
    expect(calculateSlot(record?.key ?? '')).toBe(t.partition(name).slot);
    for (const k of record?.indexes ?? []) expect(calculateSlot(k)).toBe(t.partition(name).slot);
    expect(await t.pending(name)).toBe(batch.length);
    await t.reader.ack(batch.map((e) => e.id));
    expect(await t.pending(name)).toBe(0);
    expect(await suite.redis.get(t.partition(name).checkpoint)).toBe(`{"p":"${name}"}`);
    const listed = await t.store.list({ limit: 10 });
    expect(listed.warnings.map((w) => w.warning_id)).toEqual([`${name}:evt_${name}`]);
    expect((await t.store.list({ processor: name, status: 'open', limit: 10 })).warnings).toHaveLength(1);
  });

  it('a stale-epoch commit carrying a warning changes nothing', async () => {
    const t = await setUp();
    const batch = await t.reader.read(100, 200);
    const name = partitionOf(batch);
    await t.steal(name);
    const [record] = t.stage(name).get(name) ?? [];
    await t.reader.ack(batch.map((e) => e.id));
    // Nothing acknowledged, no checkpoint, no warning and no index entry.
    expect(await t.pending(name)).toBe(batch.length);
    expect(await suite.redis.get(t.partition(name).checkpoint)).toBeNull();
    expect(await suite.redis.exists(record?.key ?? '')).toBe(0);
    for (const k of record?.indexes ?? []) expect(await suite.redis.zcard(k)).toBe(0);
    expect((await t.store.list({ limit: 10 })).warnings).toEqual([]);
  });

  it('refuses another partition’s warning once its epoch moved on, and upserts a partitionless one plainly', async () => {
    const t = await setUp();
    const batch = await t.reader.read(100, 200);
    const name = partitionOf(batch);
    const other = PROCESSORS.find((p) => p !== name) as string;
    t.stage(name, other, 'internal');
    await t.steal(other);
    await t.reader.ack(batch.map((e) => e.id));
    const ids = (await t.store.list({ limit: 10 })).warnings.map((w) => w.warning_id).sort();
    expect(ids).toEqual([`${name}:evt_${name}`, 'internal:evt_internal'].sort());
    expect(await suite.redis.get(t.partition(other).checkpoint)).toBeNull();
  });

  it('writes another held partition’s warning with that partition’s checkpoint, in a commit of its own', async () => {
    const t2 = await setUp();
    const b2 = await t2.reader.read(100, 200);
    const n2 = partitionOf(b2);
    const o2 = PROCESSORS.find((p) => p !== n2) as string;
    t2.stage(o2);
    await t2.reader.ack(b2.map((e) => e.id));
    expect((await t2.store.get(`${o2}:evt_${o2}`))?.status).toBe('open');
    expect(await suite.redis.get(t2.partition(o2).checkpoint)).toBe(`{"p":"${o2}"}`);
  });
});
