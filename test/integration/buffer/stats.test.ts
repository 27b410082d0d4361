import { describe, expect, it } from 'vitest';
import { redisSuite, testBuffer } from '../../support/buffer.js';
import { LAG_COUNT_CAP } from '../../../src/buffer/redis-buffer.js';

const suite = redisSuite();
const items = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ dedupKey: `${tag}${i}`, payload: `{"n":${i}}` }));

describe('buffer stats', () => {
  it('reports length, pending, lag and the group position as Redis does', async () => {
    const { buffer: b } = await testBuffer(suite.server);
    await b.append(items(30, 'a'));
    const r = await b.openReader('c');
    const got = await r.read(10, 10);
    expect(await b.stats()).toMatchObject({ length: 30, pending: 10, lag: 20, dlqDepth: 0, lastDeliveredId: got[9]?.id });
    await b.close();
  });

  it('counts the undelivered entries itself where Redis reports no lag (entries past the group deleted)', async () => {
    const { buffer: b, stream } = await testBuffer(suite.server);
    await b.append(items(30, 'b'));
    const r = await b.openReader('c');
    await r.read(10, 10);
    const ids = (await suite.redis.xrange(stream, '-', '+')).map(([id]) => id);
    await suite.redis.xdel(stream, ids[20] as string);
    // What Redis itself says now: no lag figure at all.
    const info = (await suite.redis.xinfo('GROUPS', stream)) as unknown[][];
    const group = info[0] as unknown[];
    expect(group[group.indexOf('lag') + 1]).toBeNull();
    expect(await b.stats()).toMatchObject({ length: 29, pending: 10, lag: 19 });
    await b.close();
  });

  it('estimates a backlog larger than it counts from the entries\' times', async () => {
    const { buffer: b, stream } = await testBuffer(suite.server);
    // 5,000 entries one millisecond apart, then one deleted: Redis's lag is null.
    const tx = suite.redis.multi();
    for (let i = 0; i < 5000; i++) tx.xadd(stream, `${1_700_000_000_000 + i}-0`, 'e', `{"n":${i}}`);
    await tx.exec();
    await suite.redis.xdel(stream, `${1_700_000_000_000 + 2500}-0`);
    const lag = (await b.stats()).lag;
    expect(lag).toBeGreaterThan(LAG_COUNT_CAP);
    expect(Math.abs(lag - 4999)).toBeLessThanOrEqual(10);
    // Never more than the stream holds, even when the counted part was denser than the rest.
    await suite.redis.xadd(stream, `${1_700_000_000_000 + 10_000_000}-0`, 'e', '{}');
    expect((await b.stats()).lag).toBe(5000);
    await b.close();
  });
});
