/**
 * `useRedis()`: the suite shape (use-suite.ts) with a real redis-server on a free loopback port
 * for the file, a plain client on it, and isolation by key prefix rather than by server:
 * `suite.prefix` is a fresh random prefix for each test (in a `beforeAll`, the file's own), so
 * tests sharing the server never see each other's keys.
 */
import { Redis } from 'ioredis';
import { beforeAll, beforeEach } from 'vitest';
import { startRedis, testPrefix, type RedisServer } from './redis-server.js';
import { useSuite, type Suite } from './use-suite.js';

export interface RedisSuite extends Suite {
  /** The file's redis-server: it can be stopped, paused and restarted on the same port. */
  readonly server: RedisServer;
  /** A plain client, to set up and inspect keys; it reconnects by itself after a restart. */
  readonly redis: Redis;
  /** A random key prefix: a fresh one per test; inside a `beforeAll`, the file's. */
  readonly prefix: string;
}

export interface RedisSuiteOptions {
  /** Start the server with AOF (fsync always), so that a restart keeps what was written. */
  readonly appendonly?: boolean;
}

export function useRedis(o: RedisSuiteOptions = {}): RedisSuite {
  const base = useSuite();
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  let prefix: string | undefined;

  beforeAll(async () => {
    const started = await startRedis({ appendonly: o.appendonly ?? false });
    server = started;
    // Deferred first, so closed last: after everything the file opened on it.
    base.defer(() => started.close());
    const client = new Redis(started.url);
    redis = client;
    // Tests stop and pause the server on purpose; the client retries meanwhile.
    client.on('error', () => undefined);
    base.defer(() => client.disconnect());
    prefix = testPrefix();
  });
  beforeEach(() => {
    prefix = testPrefix();
  });

  const must = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`useRedis: ${what} used before beforeAll`);
    return v;
  };
  return {
    get server() {
      return must(server, 'server');
    },
    get redis() {
      return must(redis, 'redis');
    },
    get prefix() {
      return must(prefix, 'prefix');
    },
    defer: (cleanup) => base.defer(cleanup),
    scratch: () => base.scratch(),
  };
}
