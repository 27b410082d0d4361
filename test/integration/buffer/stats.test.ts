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

  it('caps the count it makes itself', async () => {
    const { buffer: b, stream } = await testBuffer(suite.server);
    const n = LAG_COUNT_CAP + 500;
    for (let i = 0; i < n; i += 2000) await b.append(items(Math.min(2000, n - i), `c${i}-`));
    const head = await suite.redis.xrange(stream, '-', '+', 'COUNT', 10);
    await suite.redis.xdel(stream, head[5]?.[0] as string);
    expect((await b.stats()).lag).toBe(LAG_COUNT_CAP);
    await b.close();
  });
});
