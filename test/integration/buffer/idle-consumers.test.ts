/**
 * Stale consumers (SPEC §5): removed once idle with nothing pending, never while they hold
 * entries, never ourselves. Against a real redis-server.
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBuffer } from '../../../src/buffer/redis-buffer.js';
import { startRedis, testPrefix, type RedisServer } from '../../support/redis-server.js';

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('removeIdleConsumers', () => {
  it('removes idle consumers with nothing pending and keeps busy ones and ourselves', async () => {
    const p = testPrefix();
    const stream = `${p}s`;
    const b = await createRedisBuffer({
      url: server.url, password: undefined, tls: false, keyPrefix: p, stream, group: 'g', dlqStream: `${p}dlq`,
      dedupWindowSec: 60, maxLen: 0, rawEventTtlDays: 7, logger: pino({ level: 'silent' }),
    });
    await b.append([{ dedupKey: 'a', payload: '{"n":1}' }]);
    const holder = await b.openReader('holder');
    expect(await holder.read(10, 10)).toHaveLength(1); // pending, never acked
    const done = await b.openReader('done');
    expect(await done.read(10, 10)).toEqual([]);
    const self = await b.openReader('self');
    expect(await self.read(10, 10)).toEqual([]);
    await sleep(150);
    const fresh = await b.openReader('fresh');
    expect(await fresh.read(10, 10)).toEqual([]);

    expect(await b.removeIdleConsumers(100, 'self')).toEqual(['done']);
    const names = ((await redis.xinfo('CONSUMERS', stream, 'g')) as unknown[][]).map((c) => c[1]);
    expect(names.sort()).toEqual(['fresh', 'holder', 'self']);
    // The holder's entry is still pending for it: nothing was dropped with a consumer.
    const summary = (await redis.xpending(stream, 'g')) as [number, ...unknown[]];
    expect(summary[0]).toBe(1);
    await b.close();
  });
});
