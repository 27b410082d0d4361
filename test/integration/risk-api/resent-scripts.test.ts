/**
 * The Risk API's scripts run on a connection with REDIS_SOCKET_TIMEOUT_MS: after a Redis stall
 * longer than that, ioredis re-sends a command Redis may already have run. The same call run
 * twice must not spend a second token or record a scan twice.
 */
import { describe, expect, it } from 'vitest';
import { TAKE_TOKEN } from '../../../src/risk-api/rate-limiter.js';
import { APPEND_SCAN } from '../../../src/risk-api/history-store.js';
import { runScript } from '../../../src/buffer/redis-script.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

describe('a Risk API script run twice by the same call', () => {
  it('takes one token, and answers the second run as the first', async () => {
    const key = `${suite.prefix}rl`;
    const take = (call: string) =>
      runScript(suite.redis, TAKE_TOKEN, [key], [2, 1 / 60_000, 1_000_000, call]) as Promise<[number, string, number]>;
    expect(await take('call-1')).toEqual([1, '1', 0]);
    expect(await take('call-1')).toEqual([1, '1', 0]);
    expect((await take('call-2'))[0]).toBe(1);
    expect((await take('call-3'))[0]).toBe(0);
  });

  it('records the scan once', async () => {
    const p = suite.prefix;
    const append = (call: string) =>
      runScript(
        suite.redis,
        APPEND_SCAN,
        [`${p}h`, `${p}h:seq`, `${p}call:${call}`],
        [1_000_000, '{"tier":1}', 10, 3_600_000, 3600],
      );
    await append('call-1');
    await append('call-1');
    expect(await suite.redis.zcard(`${p}h`)).toBe(1);
    await append('call-2');
    expect(await suite.redis.zcard(`${p}h`)).toBe(2);
  });
});
