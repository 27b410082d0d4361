import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { useRedis } from '../../support/use-redis.js';
import { createRiskHistory, SLOT_MS, type RiskSample, type SlotSample } from '../../../src/pilot/risk-history.js';

const suite = useRedis();

type SampleOverrides = Partial<SlotSample> & { processor?: string; focus?: RiskSample['focus'] };

/** A batch of one processor whose events all fall in one slot. */
function sample(atMs: number, over: SampleOverrides = {}): RiskSample {
  const { processor = 'stripe', focus = null, ...slotOver } = over;
  const slot: SlotSample = {
    atMs,
    events: 10,
    failures: 2,
    maxScore: 0.35,
    maxBand: 'elevated',
    score: 0.31,
    band: 'elevated',
    drivers: ['high_failure_rate', 'timeout_clustering'],
    trajectory: 'accelerating',
    trajectoryRatio: 3.24,
    ...slotOver,
  };
  const { score, band, drivers, trajectory, trajectoryRatio } = slot;
  return { processor, atMs, slots: [slot], score, band, drivers, trajectory, trajectoryRatio, focus };
}

/** A slot start well inside the ring, so tests choose their own offsets. */
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % SLOT_MS);

describe('risk history in Redis', () => {
  it('merges the batches of one 10 s slot: events add up, the maximum stays, the rest is the newest', async () => {
    const h = createRiskHistory({ redis: suite.redis, keyPrefix: suite.prefix, hours: 24 });
    await h.record(sample(T0 + 1000, { events: 10, failures: 2, maxScore: 0.72, maxBand: 'high' }));
    await h.record(
      sample(T0 + 4000, {
        events: 5,
        failures: 5,
        maxScore: 0.4,
        score: 0.4,
        drivers: ['nominal_behavior'],
        trajectory: 'stable',
      }),
    );
    await h.record(sample(T0 + SLOT_MS, { events: 1, failures: 0, maxScore: 0.1, maxBand: 'low', score: 0.1 }));
    const points = await h.read('stripe', T0 - 60_000, T0 + 60_000);
    expect(points).toEqual([
      {
        t: T0,
        events: 15,
        failures: 7,
        maxScore: 0.72,
        maxBand: 'high',
        score: 0.4,
        band: 'elevated',
        trajectory: 'stable',
        trajectoryRatio: 3.24,
        drivers: ['nominal_behavior'],
      },
      expect.objectContaining({ t: T0 + SLOT_MS, events: 1, maxScore: 0.1, maxBand: 'low' }),
    ]);
    expect(await h.read('adyen', T0 - 60_000, T0 + 60_000)).toEqual([]);
  });

  it('writes every slot a batch spans in one call', async () => {
    const h = createRiskHistory({ redis: suite.redis, keyPrefix: suite.prefix, hours: 24 });
    const backlog = sample(T0 + 2 * SLOT_MS);
    const slots = [0, 1, 2].map((i) => ({
      ...(backlog.slots[0] as SlotSample),
      atMs: T0 + i * SLOT_MS,
      events: i + 1,
    }));
    await h.record({ ...backlog, slots });
    const points = await h.read('stripe', T0, T0 + 2 * SLOT_MS);
    expect(points.map((p) => [p.t, p.events])).toEqual([
      [T0, 1],
      [T0 + SLOT_MS, 2],
      [T0 + 2 * SLOT_MS, 3],
    ]);
  });

  it('keeps the latest state per processor, with its focus, and an older write does not replace it', async () => {
    const h = createRiskHistory({ redis: suite.redis, keyPrefix: suite.prefix, hours: 24, now: () => T0 + 5000 });
    await h.record(sample(T0 + 3000, { score: 0.66, band: 'high', focus: { geo_bucket: 'BR' } }));
    await h.record(sample(T0 + 2000, { score: 0.1, band: 'low' }));
    expect(await h.live('stripe')).toEqual({
      processor: 'stripe',
      score: 0.66,
      band: 'high',
      drivers: ['high_failure_rate', 'timeout_clustering'],
      focus: { geo_bucket: 'BR' },
      trajectory: 'accelerating',
      trajectory_ratio: 3.24,
      last_event_at: new Date(T0 + 3000).toISOString(),
      updated_at: new Date(T0 + 5000).toISOString(),
    });
    expect(await h.live('adyen')).toBeUndefined();
  });

  it('is bounded: the ring is allocated once, later slots overwrite the oldest, nothing older than the span is read', async () => {
    const h = createRiskHistory({ redis: suite.redis, keyPrefix: suite.prefix, hours: 1 });
    const slots = 360;
    const ring = `${suite.prefix}risk:{stripe}:ring`;
    await h.record(sample(T0));
    expect(await suite.redis.strlen(ring)).toBe(slots * 24);
    // Two hours of slots: the second hour overwrites the first.
    for (let i = 1; i < 2 * slots; i++) await h.record(sample(T0 + i * SLOT_MS, { events: i }));
    expect(await suite.redis.strlen(ring)).toBe(slots * 24);
    const end = T0 + (2 * slots - 1) * SLOT_MS;
    const all = await h.read('stripe', T0, end);
    expect(all).toHaveLength(slots);
    expect(all[0]?.t).toBe(end - (slots - 1) * SLOT_MS);
    expect(all.at(-1)?.t).toBe(end);
    // The first hour is gone: its offsets hold the second hour's slots.
    expect(await h.read('stripe', T0, T0 + (slots - 1) * SLOT_MS)).toEqual([]);
    // Retention on the keys too: they go one span after the last write.
    const ttl = await suite.redis.pttl(ring);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    expect(await suite.redis.pttl(`${suite.prefix}risk:{stripe}:live`)).toBeGreaterThan(3_500_000);
  });

  it('reads a range that wraps around the end of the ring in order', async () => {
    const h = createRiskHistory({ redis: suite.redis, keyPrefix: suite.prefix, hours: 1 });
    // Slot numbers 359, 360, 361 sit at the ring's last offset and its first two.
    const base = Math.floor(T0 / SLOT_MS / 360) * 360 * SLOT_MS + 359 * SLOT_MS;
    for (let i = 0; i < 3; i++) await h.record(sample(base + i * SLOT_MS, { events: i + 1 }));
    const points = await h.read('stripe', base - 5 * SLOT_MS, base + 5 * SLOT_MS);
    expect(points.map((p) => [p.t - base, p.events])).toEqual([
      [0, 1],
      [SLOT_MS, 2],
      [2 * SLOT_MS, 3],
    ]);
  });

  it('costs one round trip and about 24 bytes of Redis memory per slot: a 24 h ring is ~200 KB', async () => {
    const h = createRiskHistory({ redis: suite.redis, keyPrefix: suite.prefix, hours: 24 });
    const n = 2000;
    await h.record(sample(T0)); // loads the script
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await h.record(sample(T0 + i * 1000));
    const usPerWrite = Number(process.hrtime.bigint() - started) / 1000 / n;
    const ring = `${suite.prefix}risk:{stripe}:ring`;
    const bytes = Number(await suite.redis.call('MEMORY', 'USAGE', ring));
    const stats = String(await suite.redis.info('commandstats'));
    const redisUs = /cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/.exec(stats)?.[1];
    process.stdout.write(
      `risk history: ${usPerWrite.toFixed(1)} µs per write round trip, Redis ${redisUs ?? '?'} µs per call, ring ${bytes} bytes\n`,
    );
    expect(bytes).toBeGreaterThanOrEqual(8640 * 24);
    expect(bytes).toBeLessThan(260_000);
    // Loose: a loaded 2-core CI machine; measured ~60 µs on loopback.
    expect(usPerWrite).toBeLessThan(2000);
  });

  it('is read alike from another node: a second client and store over the same Redis', async () => {
    const writer = createRiskHistory({ redis: suite.redis, keyPrefix: suite.prefix, hours: 24 });
    await writer.record(sample(T0 + 1000, { processor: 'adyen', score: 0.82, band: 'critical' }));
    const other = new Redis(suite.server.url);
    suite.defer(() => other.disconnect());
    const reader = createRiskHistory({ redis: other, keyPrefix: suite.prefix, hours: 24 });
    expect(await reader.read('adyen', T0, T0 + SLOT_MS)).toEqual([expect.objectContaining({ t: T0, events: 10 })]);
    expect((await reader.live('adyen'))?.band).toBe('critical');
  });
});
