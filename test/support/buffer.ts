/**
 * Shared set-up of buffer integration tests: one redis-server per test file, and Redis buffers
 * on it under a fresh random key prefix each, so tests never see each other's keys.
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import type { EventBuffer } from '../../src/buffer/buffer.js';
import { createRedisBuffer, type RedisBufferOptions } from '../../src/buffer/redis-buffer.js';
import { startRedis, testPrefix, type RedisServer } from './redis-server.js';

export interface RedisSuite {
  readonly server: RedisServer;
  /** A plain client, to look at what the buffer wrote. */
  readonly redis: Redis;
}

/** Start a redis-server before the file's tests and kill it after (resumed first, if paused). */
export function redisSuite(): RedisSuite {
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    server?.resume();
    await server?.close();
  });
  const must = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('redisSuite: used before beforeAll');
    return v;
  };
  return {
    get server() {
      return must(server);
    },
    get redis() {
      return must(redis);
    },
  };
}

export interface TestBuffer {
  readonly buffer: EventBuffer;
  readonly stream: string;
  readonly prefix: string;
}

/** A Redis buffer under a fresh key prefix: group `g`, no cap, silent logs, unless overridden. */
export async function testBuffer(
  server: RedisServer,
  overrides: Partial<RedisBufferOptions> = {},
): Promise<TestBuffer> {
  const prefix = testPrefix();
  const stream = `${prefix}s`;
  const buffer = await createRedisBuffer({
    url: server.url,
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
  return { buffer, stream, prefix };
}
