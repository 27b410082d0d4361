/**
 * The cost guard of owned partitions: Redis commands per consumer batch, from `INFO
 * commandstats` while a consumer drains a backlog. Budget: at most 3 round trips per batch
 * (the fenced read and the commit, each one script, plus the amortised heartbeat, renewals and
 * the reads of partitions that have nothing: measured 2.2 on a quiet machine, 2.6 at load 17) and at most 10 commands inside Redis per batch: the read's EVAL, GET epoch and
 * XREADGROUP; the commit's EVALSHA, GET epoch, XACK, SET checkpoint, GET + SET lease; and the
 * rest amortised. (A single consumer without ownership: 2, XREADGROUP and XACK.)
 */
import { describe, expect, it } from 'vitest';
import { post, startTestApp } from '../../support/app.js';
import { event } from '../../support/events.js';
import { poll } from '../../support/poll.js';
import { metric } from '../../support/probes.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

function commandStats(info: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) out.set(m[1] ?? '', Number(m[2]));
  return out;
}

describe('cost guard', () => {
  it('drains a backlog with at most 3 round trips and 10 Redis commands per batch', async () => {
    // Only processors with traffic: an idle partition costs a read a second, not a read a batch.
    const env = { PAYFLUX_RATELIMIT_RPS: '0', PAYFLUX_READ_COUNT: '100', PAYFLUX_PROCESSORS: 'stripe,adyen' };
    const ingest = await startTestApp(suite, { ...env, PAYFLUX_ROLE: 'ingest' });
    const t0 = Date.now() - 600_000;
    const events = Array.from({ length: 20_000 }, (_, i) =>
      event({ processor: ['stripe', 'adyen'][i % 2], event_timestamp: new Date(t0 + i * 25).toISOString() }),
    );
    // Posts of 100: each is one packed entry of 50 events per processor, so a read of
    // PAYFLUX_READ_COUNT (100) events takes two entries, and the backlog is ~200 batches.
    for (let i = 0; i < events.length; i += 100) {
      expect((await post(`${ingest.url}/v1/events/batch`, events.slice(i, i + 100))).status).toBe(200);
    }
    await ingest.close();
    await suite.redis.config('RESETSTAT');
    const consumer = await startTestApp(suite, { ...env, PAYFLUX_ROLE: 'consumer' });
    await poll(
      'the backlog drained',
      () => consumer.lines.length,
      (n) => n >= events.length,
      { timeoutMs: 30_000 },
    );
    const batches = await metric(consumer.url, 'payflux_consumer_batches_total');
    const stats = commandStats(await suite.redis.info('commandstats'));
    await consumer.close();
    // Per second, not per batch: stats (XLEN, XINFO), retention (EXISTS, XTRIM, …).
    const timed = ['info', 'config|resetstat', 'xlen', 'xinfo|groups', 'exists', 'xtrim', 'xpending'];
    for (const name of timed) stats.delete(name);
    // Commands the scripts run inside Redis; everything else is a round trip of the client's.
    const roundTrips = [...stats]
      .filter(
        ([name]) =>
          ![
            'xreadgroup',
            'xack',
            'get',
            'set',
            'pexpire',
            'incr',
            'xrevrange',
            'zadd',
            'zremrangebyscore',
            'zrange',
            'del',
            'time',
          ].includes(name),
      )
      .reduce((n, [, calls]) => n + calls, 0);
    const all = [...stats].reduce((n, [, c]) => n + c, 0);
    expect(batches).toBeGreaterThanOrEqual(events.length / 100);
    expect(roundTrips / batches, JSON.stringify(Object.fromEntries(stats))).toBeLessThanOrEqual(3);
    expect(all / batches, JSON.stringify(Object.fromEntries(stats))).toBeLessThanOrEqual(10);
  });
});
