import { describe, expect, it } from 'vitest';
import { appendEach, testBuffer } from '../../support/buffer.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

async function buffer(maxLen: number, ttlDays = 7) {
  const { buffer: b, stream } = await testBuffer(suite, { maxLen, rawEventTtlDays: ttlDays });
  return { b, stream };
}
const items = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({ dedupKey: `${tag}${i}`, payload: `{"n":${i}}` }));

describe('retention', () => {
  it('trims acknowledged entries down to maxLen', async () => {
    const { b, stream } = await buffer(100);
    await appendEach(b, items(1000, 'a'));
    const r = await b.openReader('c');
    for (;;) {
      const got = await r.read(500, 10);
      if (got.length === 0) break;
      await r.ack(got.map((e) => e.id));
    }
    const res = await b.trim(Date.now());
    expect(res.overCap).toBe(0);
    const len = await suite.redis.xlen(stream);
    // Approximate trimming removes whole nodes only: at or just above the cap, never below.
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThan(300);
  });

  it('never trims pending or undelivered entries, and reports how far over the cap it is', async () => {
    const { b, stream } = await buffer(10);
    await appendEach(b, items(50, 'p'));
    const r = await b.openReader('c');
    const got = await r.read(30, 10); // 30 pending, 20 undelivered
    await r.ack(got.slice(0, 5).map((e) => e.id)); // 5 acked, 25 pending
    const res = await b.trim(Date.now());
    // 45 entries are protected (25 pending + 20 undelivered), 35 over the cap; approximate
    // trimming may keep the 5 acked ones that share a node with them.
    expect(res.overCap).toBeGreaterThanOrEqual(35);
    expect(res.overCap).toBeLessThanOrEqual(40);
    const ids = (await suite.redis.xrange(stream, '-', '+')).map(([id]) => id);
    // Every entry that is pending or undelivered is still there.
    for (const e of got.slice(5)) expect(ids).toContain(e.id);
    expect(ids.length).toBeGreaterThanOrEqual(45);
    // Once everything is acknowledged the same call brings it under the cap.
    const rest = await r.read(100, 10);
    await r.ack([...got.slice(5), ...rest].map((e) => e.id));
    expect((await b.trim(Date.now())).overCap).toBe(0);
  });

  it('with a retention of 0 days never trims by age', async () => {
    const { b, stream } = await buffer(0, 0);
    await appendEach(b, items(200, 'z'));
    const r = await b.openReader('c');
    await r.ack((await r.read(500, 10)).map((e) => e.id));
    const years = Date.now() + 3 * 365 * 86_400_000;
    expect(await b.trim(years)).toEqual({ trimmedByLength: 0, trimmedByAge: 0, overCap: 0 });
    expect(await suite.redis.xlen(stream)).toBe(200);
  });

  it('drops entries older than the raw-event retention only once acknowledged', async () => {
    const { b, stream } = await buffer(0, 1);
    await appendEach(b, items(200, 'o')); // two whole radix-tree nodes (100 entries each)
    const future = Date.now() + 2 * 86_400_000; // as if two days passed
    expect((await b.trim(future)).trimmedByAge).toBe(0); // nothing delivered yet
    const r = await b.openReader('c');
    const got = await r.read(500, 10);
    await r.ack(got.map((e) => e.id));
    await appendEach(b, items(150, 'n')); // newer entries, undelivered
    await b.trim(future);
    const left = await suite.redis.xlen(stream);
    expect(left).toBeGreaterThanOrEqual(150);
    expect(left).toBeLessThan(200);
  });
});
