/**
 * The side connection: one shared Redis connection for the features that keep state next to the
 * buffer (pilot warnings and alerts, the Risk API's limits, cache and history), with the
 * buffer's own connection settings. None on the memory buffer, where those features are off.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventBuffer } from './buffer.js';
import { connectClient, createRedisClient, type RedisClient } from './redis-client.js';

export async function openSideConnection(
  config: Config,
  buffer: EventBuffer,
  logger: Logger,
): Promise<RedisClient | undefined> {
  if (buffer.kind !== 'redis') return undefined;
  const redis = createRedisClient(config.buffer.redis, { connectionName: 'payflux-side' });
  redis.on('error', (err: Error) => logger.debug({ err: err.message }, 'redis_side_error'));
  // The buffer just connected to the same server, so this is quick.
  await connectClient(redis);
  return redis;
}

/** Close the side connection: QUIT, or drop it when Redis does not answer. */
export async function closeSideConnection(redis: RedisClient | undefined): Promise<void> {
  await redis?.quit().catch(() => redis.disconnect());
}
