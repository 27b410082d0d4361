/**
 * Choosing and connecting the buffer:
 * - `redis`, or `auto` with REDIS_ADDR/REDIS_URL set: Redis, retried with backoff until it
 *   answers; never a silent fallback.
 * - `auto` with nothing set: Redis on localhost:6379 if it answers at once, otherwise the memory
 *   buffer with a loud warning.
 * - `memory`: the memory buffer.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventBuffer } from './buffer.js';
import { createMemoryBuffer } from './memory-buffer.js';
import { createRedisBuffer, isAuthError } from './redis-buffer.js';
import { backoffMs, sleep } from '../backoff.js';
import { BufferUnavailableError } from '../errors.js';

export interface ConnectOptions {
  readonly logger: Logger;
  /** Stop retrying (shutdown while Redis never came up). */
  readonly signal?: AbortSignal;
  /** Told why each attempt failed, before waiting `retryInMs` for the next one. */
  readonly onRetry?: (why: string, retryInMs: number) => void;
  /** Give up after this many attempts (operator commands fail fast); default: never. */
  readonly attempts?: number;
}

const MAX_BACKOFF_MS = 5000;

export async function connectBuffer(config: Config, o: ConnectOptions): Promise<EventBuffer> {
  const b = config.buffer;
  if (b.kind === 'memory') return memory(config, o.logger, 'PAYFLUX_BUFFER=memory');
  const redis = () =>
    createRedisBuffer({
      url: b.redis.url,
      clusterNodes: b.redis.clusterNodes,
      waitReplicas: b.redis.waitReplicas,
      waitTimeoutMs: b.redis.waitTimeoutMs,
      processors: config.ingest.processors,
      leaseMs: config.consumer.leaseMs,
      nodeName: config.consumer.name,
      password: b.redis.password,
      tls: b.redis.tls,
      socketTimeoutMs: b.redis.socketTimeoutMs,
      keyPrefix: b.keyPrefix,
      stream: b.stream,
      group: b.group,
      dlqStream: b.dlqStream,
      dedupWindowSec: config.ingest.dedupWindowSec,
      maxLen: b.maxLen,
      rawEventTtlDays: b.rawEventTtlDays,
      logger: o.logger,
    });

  // The memory fallback only for a node that both ingests and consumes: with split roles the
  // other nodes could never see its events, so those wait for Redis like an explicit address.
  if (b.kind === 'auto' && !b.redis.explicit && config.role === 'all') {
    try {
      return await redis();
    } catch (err) {
      if (isFatal(err)) throw err;
      return memory(config, o.logger, `no Redis answered at ${redactUrl(b.redis.url)} (${(err as Error).message})`);
    }
  }

  for (let attempt = 1; ; attempt++) {
    try {
      const buffer = await redis();
      if (attempt > 1) o.logger.info({ attempt }, 'redis_connected');
      return buffer;
    } catch (err) {
      if (isFatal(err)) throw err;
      if (attempt >= (o.attempts ?? Infinity))
        throw new BufferUnavailableError(
          `Redis at ${redactUrl(b.redis.url)} is not reachable (${(err as Error).message})`,
          {
            cause: err,
          },
        );
      const delay = backoffMs(attempt, 250, MAX_BACKOFF_MS);
      const auth = isAuthError(err as Error);
      const fields = { redis: redactUrl(b.redis.url), attempt, retryInMs: delay, err: (err as Error).message };
      // An authentication failure is not an unreachable Redis: the fix is REDIS_PASSWORD, not the network.
      if (auth) o.logger.error(fields, 'redis_auth_failed');
      else o.logger.warn(fields, 'redis_unreachable');
      o.onRetry?.(
        auth
          ? `Redis at ${redactUrl(b.redis.url)} refused the credentials (${(err as Error).message}); check REDIS_PASSWORD`
          : `Redis at ${redactUrl(b.redis.url)} is not answering yet (${(err as Error).message})`,
        delay,
      );
      await sleep(delay, o.signal);
      if (o.signal?.aborted === true) throw new Error('shutdown before Redis became reachable', { cause: err });
    }
  }
}

function memory(config: Config, logger: Logger, why: string): EventBuffer {
  logger.warn(
    { buffer: 'memory', reason: why },
    'USING THE IN-MEMORY BUFFER: events are NOT durable and are lost on restart. Set REDIS_ADDR for production.',
  );
  return createMemoryBuffer({
    dedupWindowSec: config.ingest.dedupWindowSec,
    maxLen: config.buffer.maxLen,
    maxBacklog: config.buffer.maxLen > 0 ? config.buffer.maxLen : 1_000_000,
    maxDedupKeys: 1_000_000,
    rawEventTtlDays: config.buffer.rawEventTtlDays,
  });
}

/** Wrong key type or too old a server: retrying cannot help. */
function isFatal(err: unknown): boolean {
  const msg = (err as Error).message;
  return msg.includes('is not a stream') || msg.includes('is too old');
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
