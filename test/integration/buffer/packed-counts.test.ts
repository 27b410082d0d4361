/**
 * Counts in events over packed entries: a read asks for about PAYFLUX_READ_COUNT events, and
 * length, lag and the length cap count events, whatever each entry carries.
 */
import { describe, expect, it } from 'vitest';
import { testBuffer } from '../../support/buffer.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

const packed = (entry: number, events: number): string =>
  Array.from({ length: events }, (_, i) => `{"event_id":"e-${entry}-${i}"}`).join('\n');

describe('packed entries, counted in events', () => {
  it('reads about the asked number of events and reports length and lag in events', async () => {
    const { buffer: b, stream } = await testBuffer(suite);
    for (let n = 0; n < 10; n++) await suite.redis.xadd(stream, '*', 'e', packed(n, 50));
    const r = await b.openReader('c');
    // 100 events' worth: two entries (the reader looked at the newest entry for their size).
    const first = await r.read(100, 10);
    expect(first).toHaveLength(2);
    await r.ack(first.map((e) => e.id));
    expect(await r.read(150, 10)).toHaveLength(3);
    expect(await b.stats()).toMatchObject({ length: 500, pending: 150, lag: 250 });
  });

  it('caps the stream at PAYFLUX_STREAM_MAXLEN events, not entries', async () => {
    const { buffer: b, stream } = await testBuffer(suite, { maxLen: 1000 });
    for (let n = 0; n < 400; n++) await suite.redis.xadd(stream, '*', 'e', packed(n, 10));
    const r = await b.openReader('c');
    for (;;) {
      const got = await r.read(4000, 10);
      if (got.length === 0) break;
      await r.ack(got.map((e) => e.id));
    }
    const trimmed = await b.trim(Date.now());
    // 4,000 events in 400 entries, all acknowledged: trimmed to about 1,000 events (100
    // entries; approximate trimming keeps up to a radix node more).
    expect(trimmed.trimmedByLength).toBeGreaterThan(2000);
    const left = await suite.redis.xlen(stream);
    expect(left).toBeGreaterThanOrEqual(100);
    expect(left).toBeLessThan(250);
    expect((await b.stats()).length).toBe(left * 10);
  });
});
