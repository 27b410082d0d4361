/**
 * Stale consumers: removed once idle with nothing pending, never while they hold
 * entries, never ourselves. Against a real redis-server.
 */
import { describe, expect, it } from 'vitest';
import { testBuffer } from '../../support/buffer.js';
import { useRedis } from '../../support/use-redis.js';
import { delay } from '../../support/poll.js';

const suite = useRedis();

describe('removeIdleConsumers', () => {
  it('removes idle consumers with nothing pending and keeps busy ones and ourselves', async () => {
    const { buffer: b, stream } = await testBuffer(suite);
    await b.append([{ dedupKey: 'a', payload: '{"n":1}' }]);
    const holder = await b.openReader('holder');
    expect(await holder.read(10, 10)).toHaveLength(1); // pending, never acked
    const done = await b.openReader('done');
    expect(await done.read(10, 10)).toEqual([]);
    const self = await b.openReader('self');
    expect(await self.read(10, 10)).toEqual([]);
    // Idle over 500 ms for the three above; `fresh` would need a 500 ms stall to look idle.
    await delay(650);
    const fresh = await b.openReader('fresh');
    expect(await fresh.read(10, 10)).toEqual([]);

    expect(await b.removeIdleConsumers(500, 'self')).toEqual(['done']);
    const names = ((await suite.redis.xinfo('CONSUMERS', stream, 'g')) as unknown[][]).map((c) => c[1]);
    expect(names.sort()).toEqual(['fresh', 'holder', 'self']);
    // The holder's entry is still pending for it: nothing was dropped with a consumer.
    const summary = (await suite.redis.xpending(stream, 'g')) as [number, ...unknown[]];
    expect(summary[0]).toBe(1);
  });
});
