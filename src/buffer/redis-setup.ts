/** Checks and set-up the Redis buffer runs against a server before it takes traffic. */
import { Cluster, type Redis } from 'ioredis';
import type { Logger } from 'pino';
import { BufferUnavailableError } from '../errors.js';
import { connectClient, type RedisClient } from './redis-client.js';

const MIN_VERSION: readonly [number, number] = [6, 2];

/** The master connection serving `slot` (the client itself when standalone). */
export function nodeForSlot(client: RedisClient, slot: number): Redis {
  if (!(client instanceof Cluster)) return client;
  const key = client.slots[slot]?.[0];
  const node = client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === key);
  if (node === undefined) throw new BufferUnavailableError(`no master known for slot ${slot}`);
  return node;
}

/** The client's latest socket error; after `started`, an authentication failure is logged once as such. */
export interface ErrorTracker {
  last: Error | undefined;
  started: boolean;
}

export function trackErrors(redis: RedisClient, logger: Logger): ErrorTracker {
  const t: ErrorTracker = { last: undefined, started: false };
  let authFailing = false;
  redis.on('error', (err: Error) => {
    t.last = err;
    // A password changed under a running PayFlux fails every reconnect the same way: said once,
    // at error level, as what it is. (At start, connectBuffer logs each attempt's failure.)
    if (t.started && isAuthError(err)) {
      if (!authFailing) logger.error({ err: err.message }, 'redis_auth_failed');
      authFailing = true;
    } else logger.debug({ err: err.message }, 'redis_error');
  });
  redis.on('ready', () => {
    if (authFailing) logger.info('redis_auth_ok');
    authFailing = false;
    t.last = undefined;
  });
  return t;
}

/** Connects, or rejects once `ms` passed without the client becoming ready. */
export async function connectWithin(redis: RedisClient, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    connectClient(redis),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Dedup buckets are sets of up to tens of millions of members (buffer/packed-append.ts). PayFlux
 * unlinks each one once it is two buckets old; one that expires instead (no append for a whole
 * bucket) is freed on Redis's main thread unless `lazyfree-lazy-expire` is on, stalling Redis
 * for as long as freeing it takes. Said once at start; a Redis that refuses CONFIG (managed
 * services often do) is left alone.
 */
export async function checkLazyExpire(redis: RedisClient, logger: Logger): Promise<void> {
  try {
    const reply = (await redis.call('CONFIG', 'GET', 'lazyfree-lazy-expire')) as string[];
    if (reply[1] === 'no')
      logger.warn(
        { hint: 'set lazyfree-lazy-expire yes in redis.conf (docs/operations.md, Sizing Redis)' },
        'redis_lazyfree_lazy_expire_off',
      );
  } catch {
    // CONFIG disabled or renamed: nothing to say.
  }
}

export async function checkVersion(redis: RedisClient): Promise<void> {
  const info = await redis.info('server');
  const m = /redis_version:(\d+)\.(\d+)/.exec(info);
  const major = Number(m?.[1] ?? 0);
  const minor = Number(m?.[2] ?? 0);
  if (major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1])) {
    throw new Error(
      `Redis ${major}.${minor} is too old: PayFlux needs Redis ≥ ${MIN_VERSION.join('.')} (XAUTOCLAIM, XTRIM MINID)`,
    );
  }
}

/**
 * The dead-letter stream is created by its first entry; a key of another type there would make
 * every dead-letter write fail, and the consumer retry that batch's ack forever: fatal at start.
 */
export async function ensureStreamOrAbsent(redis: RedisClient, key: string, variable: string): Promise<void> {
  const type = await redis.type(key);
  if (type !== 'none' && type !== 'stream')
    throw new Error(
      `Redis key "${key}" exists and is not a stream (${type}): rename it or set ${variable} to another name`,
    );
}

export async function ensureGroup(redis: RedisClient, stream: string, group: string, variable: string): Promise<void> {
  try {
    // From 0, not $: entries already in the stream before the group existed are not skipped.
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  } catch (err) {
    const msg = (err as Error).message;
    if (msg.startsWith('BUSYGROUP')) return;
    if (msg.startsWith('WRONGTYPE')) {
      throw new Error(
        `Redis key "${stream}" exists and is not a stream: rename it or set ${variable} to another name`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** Redis refused our credentials: NOAUTH (a password is needed), WRONGPASS or ERR invalid password (older servers). */
export function isAuthError(err: Error): boolean {
  return /^(NOAUTH|WRONGPASS)|invalid password/i.test(err.message);
}
