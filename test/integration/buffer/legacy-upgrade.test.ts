/**
 * Upgrading a single-stream deployment: the entries left in the old stream (undelivered, and
 * pending for a consumer of the old version) are exported once, and each processor's old
 * entries before any of its new, partitioned ones, so its window sees them in stream order.
 */
import { describe, expect, it } from 'vitest';
import { event } from '../../support/events.js';
import { post, startTestApp } from '../../support/app.js';
import { poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

describe('upgrade from the single-stream layout', () => {
  it('drains the old stream first, then reads the partitions, losing and repeating nothing', async () => {
    const legacy = `${suite.prefix}events`;
    await suite.redis.xgroup('CREATE', legacy, 'payment_consumers', '0', 'MKSTREAM');
    const old = Array.from({ length: 60 }, (_, i) => event({ processor: i % 2 === 0 ? 'stripe' : 'adyen' }));
    for (const e of old) await suite.redis.xadd(legacy, '*', 'e', JSON.stringify(e));
    // An old consumer read the first 10 and died before acknowledging them.
    await suite.redis.xreadgroup('GROUP', 'payment_consumers', 'old-node', 'COUNT', 10, 'STREAMS', legacy, '>');

    const app = await startTestApp(suite, { PAYFLUX_CLAIM_IDLE_MS: '500', PAYFLUX_READ_COUNT: '20' });
    const fresh = Array.from({ length: 40 }, (_, i) => event({ processor: i % 2 === 0 ? 'stripe' : 'adyen' }));
    const res = await post(`${app.url}/v1/events/batch`, fresh);
    expect(res.status).toBe(200);

    const all = [...old, ...fresh].map((e) => e.event_id as string);
    await poll(
      'everything exported',
      () => app.lines.length,
      (n) => n >= all.length,
      { timeoutMs: 15_000 },
    );
    const exported = app.lines.map((l) => l.event_id as string);
    expect([...exported].sort()).toEqual([...all].sort());
    const oldIds = new Set(old.map((e) => e.event_id as string));
    for (const processor of ['stripe', 'adyen']) {
      const mine = app.lines.filter((l) => l.processor === processor).map((l) => oldIds.has(l.event_id as string));
      // Every old entry of the processor before its first new one.
      expect(mine.indexOf(false)).toBe(mine.lastIndexOf(true) + 1);
    }
    expect(await suite.redis.xpending(legacy, 'payment_consumers')).toEqual([0, null, null, null]);
  });
});
