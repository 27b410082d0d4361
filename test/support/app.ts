/**
 * PayFlux started in-process against a real redis-server, listening on a real loopback port,
 * with export lines captured from its stdout sink.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { start, type Running } from '../../src/main.js';
import { afterAll, beforeAll } from 'vitest';
import { startRedis, testPrefix, type RedisServer } from './redis-server.js';

export const TEST_KEY = 'test-key-0123456789abcdef';

export interface TestApp {
  readonly running: Running;
  readonly url: string;
  readonly redis: Redis;
  readonly stream: string;
  readonly prefix: string;
  /** Export lines written so far, parsed. */
  readonly lines: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startTestApp(redisAddr: string, env: Record<string, string> = {}): Promise<TestApp> {
  const prefix = testPrefix();
  const stream = `${prefix}events`;
  const config = loadConfig({
    HTTP_ADDR: '127.0.0.1:0',
    REDIS_ADDR: redisAddr,
    PAYFLUX_API_KEYS: TEST_KEY,
    PAYFLUX_KEY_PREFIX: prefix,
    PAYFLUX_STREAM: stream,
    PAYFLUX_DLQ_STREAM: `${prefix}dlq`,
    PAYFLUX_LOG_LEVEL: 'silent',
    PAYFLUX_READ_BLOCK_MS: '100',
    ...env,
  });
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  // Decodes each chunk before calling back, as a real stdout has written it by then: the
  // exporter reuses its buffer once the write has called back.
  const stdout = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) if (p !== '') lines.push(JSON.parse(p) as Record<string, unknown>);
      done();
    },
  });
  const running = await start(config, { logger: pino({ level: 'silent' }), stdout });
  const redis = new Redis(`redis://${redisAddr}`);
  return {
    running,
    url: `http://127.0.0.1:${running.port}`,
    redis,
    stream,
    prefix,
    lines,
    async close() {
      await running.close();
      redis.disconnect();
    },
  };
}

export function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: `evt_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`,
    event_timestamp: new Date().toISOString(),
    event_type: 'payment_failed',
    processor: 'stripe',
    failure_category: 'card_declined',
    merchant_id_hash: 'm_9f2c',
    geo_bucket: 'US',
    retry_count: 1,
    ...overrides,
  };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export interface AppSuite {
  /** The file's redis-server (stoppable, restartable). */
  readonly redis: RedisServer;
  readonly app: TestApp;
}

/** One redis-server and one PayFlux app (with `env`) for a test file's tests, closed after them. */
export function appSuite(env: Record<string, string> = {}, redisOptions: { appendonly?: boolean } = {}): AppSuite {
  let redis: RedisServer | undefined;
  let app: TestApp | undefined;
  beforeAll(async () => {
    redis = await startRedis(redisOptions);
    app = await startTestApp(redis.addr, env);
  });
  afterAll(async () => {
    await app?.close();
    await redis?.close();
  });
  const must = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('appSuite: used before beforeAll');
    return v;
  };
  return {
    get redis() {
      return must(redis);
    },
    get app() {
      return must(app);
    },
  };
}
