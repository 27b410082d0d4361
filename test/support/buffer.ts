/** A Redis event buffer for buffer integration tests, under the test's key prefix. */
import pino from 'pino';
import type { AppendItem, EventBuffer } from '../../src/buffer/buffer.js';
import { createRedisBuffer, type RedisBufferOptions } from '../../src/buffer/redis-buffer.js';
import type { RedisSuite } from './use-redis.js';

export interface TestBuffer {
  readonly buffer: EventBuffer;
  readonly stream: string;
  readonly prefix: string;
}

/**
 * A Redis buffer on the suite's server under its current prefix: stream `<prefix>s`, group `g`,
 * no cap, silent logs, unless overridden. Closed after the test.
 */
export async function testBuffer(s: RedisSuite, overrides: Partial<RedisBufferOptions> = {}): Promise<TestBuffer> {
  const prefix = s.prefix;
  const stream = `${prefix}s`;
  const buffer = await createRedisBuffer({
    url: s.server.url,
    password: undefined,
    tls: false,
    keyPrefix: prefix,
    stream,
    group: 'g',
    dlqStream: `${prefix}dlq`,
    dedupWindowSec: 60,
    maxLen: 0,
    rawEventTtlDays: 7,
    logger: pino({ level: 'silent' }),
    ...overrides,
  });
  s.defer(() => buffer.close());
  return { buffer, stream, prefix };
}

/** Append each item in a call of its own: one stream entry per event (one call packs its events in one). */
export async function appendEach(b: EventBuffer, items: readonly AppendItem[]): Promise<void> {
  for (const it of items) await b.append([it]);
}
