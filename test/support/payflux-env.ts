/**
 * The environment a PayFlux child process runs with in a test: the suite's redis-server, its
 * stream, DLQ and keys under the test's prefix, a free port, one API key, short timeouts.
 */
import { partitionLayout } from '../../src/buffer/partitions.js';
import { freePort } from './redis-server.js';
import type { RedisSuite } from './use-redis.js';

export const API_KEY = 'integration-test-key-0001';

export interface PayfluxEnv {
  readonly [name: string]: string;
}

/** `overrides` win; the stream and group names are typed so that tests can inspect Redis with them. */
export async function payfluxEnv(
  s: RedisSuite,
  overrides: Record<string, string> = {},
): Promise<PayfluxEnv & { PAYFLUX_STREAM: string; PAYFLUX_DLQ_STREAM: string; PAYFLUX_CONSUMER_GROUP: string }> {
  return {
    HTTP_ADDR: `127.0.0.1:${await freePort()}`,
    REDIS_ADDR: s.server.addr,
    PAYFLUX_BUFFER: 'redis',
    PAYFLUX_STREAM: `${s.prefix}events`,
    PAYFLUX_DLQ_STREAM: `${s.prefix}dlq`,
    PAYFLUX_CONSUMER_GROUP: 'payment_consumers',
    PAYFLUX_KEY_PREFIX: s.prefix,
    PAYFLUX_API_KEYS: API_KEY,
    PAYFLUX_RATELIMIT_RPS: '0',
    PAYFLUX_LOG_LEVEL: 'info',
    PAYFLUX_SHUTDOWN_TIMEOUT_SEC: '10',
    PAYFLUX_RETENTION_INTERVAL_MS: '500',
    ...overrides,
  };
}

const DEFAULT_PROCESSORS = 'stripe,adyen,checkout,internal';

type Env = { readonly [name: string]: string | undefined };

/** The partition layout a PayFlux child with `env` uses. */
function layoutOf(env: Env): ReturnType<typeof partitionLayout> {
  return partitionLayout({
    processors: (env.PAYFLUX_PROCESSORS ?? DEFAULT_PROCESSORS).split(',').map((p) => p.trim()),
    keyPrefix: env.PAYFLUX_KEY_PREFIX ?? 'payflux:',
    stream: env.PAYFLUX_STREAM ?? 'events_stream',
    dlqStream: env.PAYFLUX_DLQ_STREAM ?? 'events_stream_dlq',
  });
}

/** Every stream a PayFlux child with `env` reads: the single-stream layout's, then each processor's partition. */
export function streamsOf(env: Env): string[] {
  const layout = layoutOf(env);
  return [layout.legacy.stream, ...layout.partitions.map((p) => p.stream)];
}

/** Every dead-letter stream a PayFlux child with `env` writes: the single-stream layout's, then each partition's. */
export function dlqsOf(env: Env): string[] {
  const layout = layoutOf(env);
  return [layout.legacy.dlq, ...layout.partitions.map((p) => p.dlq)];
}

/** The stream of one processor's partition (test events are stripe's unless they say otherwise). */
export function streamOf(env: Env, processor = 'stripe'): string {
  const layout = layoutOf(env);
  return layout.partitionOf(processor)?.stream ?? layout.legacy.stream;
}
