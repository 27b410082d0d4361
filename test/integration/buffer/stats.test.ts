import { describe, expect, it } from 'vitest';
import { appendEach, testBuffer } from '../../support/buffer.js';
import { useRedis } from '../../support/use-redis.js';
import { LAG_COUNT_CAP } from '../../../src/buffer/redis-buffer.js';

const suite = useRedis();
const items = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({ dedupKey: `${tag}${i}`, payload: `{"n":${i}}` }));

describe('buffer stats', () => {
  it('reports length, pending, lag and the group position as Redis does', async () => {
    const { buffer: b } = await testBuffer(suite);
    await appendEach(b, items(30, 'a'));
    const r = await b.openReader('c');
    const got = await r.read(10, 10);
    expect(await b.stats()).toMatchObject({
      length: 30,
      pending: 10,
      lag: 20,
      dlqDepth: 0,
      lastDeliveredId: got[9]?.id,
    });
  });

  it('counts the undelivered entries itself where Redis reports no lag (entries past the group deleted)', async () => {
    const { buffer: b, stream } = await testBuffer(suite);
    await appendEach(b, items(30, 'b'));
    const r = await b.openReader('c');
    await r.read(10, 10);
    const ids = (await suite.redis.xrange(stream, '-', '+')).map(([id]) => id);
    await suite.redis.xdel(stream, ids[20] as string);
    // What Redis itself says now: no lag figure at all.
    const info = (await suite.redis.xinfo('GROUPS', stream)) as unknown[][];
    const group = info[0] as unknown[];
    expect(group[group.indexOf('lag') + 1]).toBeNull();
    expect(await b.stats()).toMatchObject({ length: 29, pending: 10, lag: 19 });
  });

  it("estimates a backlog larger than it counts from the entries' times, bursts included", async () => {
    const { buffer: b, stream } = await testBuffer(suite);
    // 6,000 entries over 6 s of ids, 1,000 per millisecond-burst every 1,000 ms (as batch
    // ingest writes them); 2,000 delivered, then one undelivered entry deleted: lag is null.
    const t0 = 1_700_000_000_000;
    const tx = suite.redis.multi();
    for (let i = 0; i < 6000; i++)
      tx.xadd(stream, `${t0 + Math.floor(i / 1000) * 1000}-${i % 1000}`, 'e', `{"n":${i}}`);
    await tx.exec();
    const r = await b.openReader('c');
    await r.read(2000, 10);
    await suite.redis.xdel(stream, `${t0 + 3000}-5`);
    const lag = (await b.stats()).lag;
    // 3,999 undelivered. The estimate is the length (5,999) times the share of the ids' span
    // after the first undelivered entry (3,001 of 5,001 ms): 3,600, coarse because six bursts
    // are six points in time, but of the right size (a rate from the first 1,000 entries alone,
    // all in one millisecond, would have read the whole stream).
    expect(lag).toBeGreaterThan(LAG_COUNT_CAP);
    expect(Math.abs(lag - 3999) / 3999).toBeLessThan(0.15);
  });
});
