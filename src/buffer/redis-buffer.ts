/**
 * The production buffer: Redis Streams with one consumer group and a dead-letter stream.
 *
 * Connections: one shared command connection (appends, acks, stats) with the offline queue off,
 * so that while Redis is down every command fails at once and ingest answers 503 instead of
 * queueing; and one dedicated connection per reader, because XREADGROUP BLOCK holds its
 * connection for up to a second.
 */
import { backoffMs } from '../backoff.js';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { streamIdMs } from '../stream-id.js';
import {
  APPEND_SCRIPT,
  DEAD_LETTER_SCRIPT,
  DLQ_REPLAY_SCRIPT,
  REMOVE_IDLE_CONSUMERS_SCRIPT,
  SCRIPT_CHUNK,
  TRIM_SCRIPT,
} from './lua.js';
import { createRedisReader } from './redis-reader.js';
import { runScript } from './redis-script.js';
import { BufferUnavailableError } from '../errors.js';
import {
  type AppendItem,
  type AppendOutcome,
  type BufferStats,
  type DlqEntry,
  type EventBuffer,
  type StreamEntry,
  type StreamReader,
  type TrimResult,
} from './buffer.js';
import { toStreamEntries, type RawEntry } from './redis-entries.js';
import { createEntrySize } from './entry-size.js';

export interface RedisBufferOptions {
  readonly url: string;
  readonly password: string | undefined;
  readonly tls: boolean;
  /** REDIS_SOCKET_TIMEOUT_MS: drop a connection whose commands got no answer for this long; 0 = never. */
  readonly socketTimeoutMs?: number;
  readonly keyPrefix: string;
  readonly stream: string;
  readonly group: string;
  readonly dlqStream: string;
  readonly dedupWindowSec: number;
  readonly maxLen: number;
  readonly rawEventTtlDays: number;
  readonly logger: Logger;
  /** Passed to each reader (`RedisReaderOptions.watchdogGraceMs`); tests shorten it. */
  readonly readWatchdogGraceMs?: number;
  /** Give up connecting at start after this long (ms); later disconnects retry forever. */
  readonly connectTimeoutMs?: number;
}

const MIN_VERSION: readonly [number, number] = [6, 2];
/**
 * Where Redis cannot say how many entries the group has yet to read (see `stats`), up to this
 * many are counted with XRANGE (each comes with its payload: ~0.5 MB for events of the usual
 * size). A larger backlog is estimated as the stream's length times the share of the stream's
 * time span (oldest to newest id) that lies after the first undelivered entry: exact at a steady
 * ingest rate, never under the count nor over the length.
 */
export const LAG_COUNT_CAP = 1000;

// The arguments go as one array (ioredis flattens it): spread into a call, a round trip of
// ~60k events (PAYFLUX_APPEND_MAX_BATCH allows 100k) would overflow the call stack.

export function redisOptions(o: Pick<RedisBufferOptions, 'password' | 'tls' | 'socketTimeoutMs'>): RedisOptions {
  return {
    password: o.password,
    tls: o.tls ? {} : undefined,
    // ioredis destroys the socket when commands wait this long with no byte back, reconnects,
    // and re-sends them on the new connection. A command Redis had received runs twice when
    // Redis itself stalled that long: the buffer's commands are safe to run twice (the append's
    // dedup, the dead-letter and replay scripts skip what is done, acks, trims and the purge
    // are idempotent), and so are the side connection's, but for the few docs/operations.md lists.
    // (Not on the blocking reader: see redis-reader.ts.)
    socketTimeout: o.socketTimeoutMs !== undefined && o.socketTimeoutMs > 0 ? o.socketTimeoutMs : undefined,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Back off to at most 2 s between reconnect attempts; never give up.
    retryStrategy: (times) => backoffMs(times, 100, 2000),
    connectionName: 'payflux',
  };
}

/** Connect, check the server version, create the group; throws a clear error on a wrong key type. */
export async function createRedisBuffer(o: RedisBufferOptions): Promise<EventBuffer> {
  const redis = new Redis(o.url, redisOptions(o));
  let socketError: Error | undefined;
  let authFailing = false;
  let started = false;
  redis.on('error', (err: Error) => {
    socketError = err;
    // A password changed under a running PayFlux fails every reconnect the same way: said once,
    // at error level, as what it is. (At start, connectBuffer logs each attempt's failure.)
    if (started && isAuthError(err)) {
      if (!authFailing) o.logger.error({ err: err.message }, 'redis_auth_failed');
      authFailing = true;
    } else o.logger.debug({ err: err.message }, 'redis_error');
  });
  redis.on('ready', () => {
    if (authFailing) o.logger.info('redis_auth_ok');
    authFailing = false;
    socketError = undefined;
  });
  try {
    await redis.connect();
    await checkVersion(redis);
    await ensureGroup(redis, o.stream, o.group);
    await ensureStreamOrAbsent(redis, o.dlqStream, 'PAYFLUX_DLQ_STREAM');
    started = true;
  } catch (err) {
    redis.disconnect();
    // ioredis rejects a refused connection with "Connection is closed.": the socket's own error says why.
    throw (err as Error).message === 'Connection is closed.' && socketError !== undefined ? socketError : err;
  }
  const dedupPrefix = `${o.keyPrefix}d:`;
  const countAfter = async (id: string, length: number): Promise<number> => {
    const after = await redis.xrange(o.stream, `(${id}`, '+', 'COUNT', LAG_COUNT_CAP);
    const first = after[0];
    if (after.length < LAG_COUNT_CAP || first === undefined) return after.length;
    const [oldest, newest] = await Promise.all([
      redis.xrange(o.stream, '-', '+', 'COUNT', 1),
      redis.xrevrange(o.stream, '+', '-', 'COUNT', 1),
    ]);
    const ms = (x: string | undefined): number => (x === undefined ? -1 : streamIdMs(x, x.indexOf('-')));
    const newestMs = ms(newest[0]?.[0]);
    const share = (newestMs - ms(first[0]) + 1) / (newestMs - ms(oldest[0]?.[0]) + 1);
    return Math.min(length, Math.max(after.length, Math.round(length * (Number.isFinite(share) ? share : 1))));
  };
  const readers = new Set<StreamReader>();
  const entrySize = createEntrySize();
  /** Entries → events, for lengths and caps that Redis counts in entries. */
  const inEvents = (entries: number): number => Math.round(entries * entrySize.perEntry());

  const buffer: EventBuffer = {
    kind: 'redis',
    get available() {
      return redis.status === 'ready';
    },

    async append(items: readonly AppendItem[]): Promise<AppendOutcome[]> {
      if (redis.status !== 'ready') throw new BufferUnavailableError(`redis is ${redis.status}`);
      // KEYS: the stream, one dedup key per item; ARGV: the TTL, one payload per item.
      const keys = new Array<string>(items.length + 1);
      const args = new Array<string | number>(items.length + 1);
      keys[0] = o.stream;
      args[0] = o.dedupWindowSec;
      for (let i = 0; i < items.length; i++) {
        const item = items[i] as AppendItem;
        keys[i + 1] = dedupPrefix + item.dedupKey;
        args[i + 1] = item.payload;
      }
      let res: number[];
      try {
        res = await runScript(redis, APPEND_SCRIPT, keys, args);
      } catch (err) {
        throw new BufferUnavailableError(`append failed: ${(err as Error).message}`, { cause: err });
      }
      let stored = 0;
      const outcomes = res.map((r): AppendOutcome => (r === 1 ? (stored++, 'accepted') : 'duplicate'));
      entrySize.observe(stored, stored);
      return outcomes;
    },

    async ping() {
      await redis.ping();
    },

    get lastError() {
      return redis.status === 'ready' ? undefined : socketError?.message;
    },

    async probeWrite() {
      // Denied like any write when Redis is at maxmemory (noeviction) or a replica; expires by itself.
      await redis.set(`${o.keyPrefix}ready_probe`, '1', 'PX', 10_000);
    },

    async stats(): Promise<BufferStats> {
      const [len, groups, dlq] = (await redis
        .pipeline()
        .xlen(o.stream)
        .xinfo('GROUPS', o.stream)
        .xlen(o.dlqStream)
        .exec()) as [[Error | null, number], [Error | null, unknown[][]], [Error | null, number]];
      let pending = 0;
      let lag: unknown = 0;
      let lastDeliveredId = '0-0';
      for (const g of groups[1] ?? []) {
        const f = fieldsOf(g);
        if (f.get('name') === o.group) {
          pending = Number(f.get('pending') ?? 0);
          lag = f.get('lag');
          lastDeliveredId = text(f.get('last-delivered-id')) || '0-0';
        }
      }
      // Redis 6.2 has no `lag`, and 7.x says null once entries past the group's position were
      // deleted: count them instead (estimated past LAG_COUNT_CAP) rather than report 0.
      const undelivered =
        lag === undefined || lag === null ? await countAfter(lastDeliveredId, len[1] ?? 0) : Number(lag);
      return {
        length: inEvents(len[1] ?? 0),
        pending: inEvents(pending),
        lag: inEvents(undelivered),
        dlqDepth: dlq[1] ?? 0,
        lastDeliveredId,
      };
    },

    async openReader(consumer: string): Promise<StreamReader> {
      const reader = await createRedisReader(redis, {
        stream: o.stream,
        group: o.group,
        dlqStream: o.dlqStream,
        consumer,
        logger: o.logger,
        watchdogGraceMs: o.readWatchdogGraceMs,
        deadLetter: (stream, dlq, args) => runScript(redis, DEAD_LETTER_SCRIPT, [stream, dlq], args),
        probationKey: `${o.keyPrefix}probation`,
        entrySize,
      });
      readers.add(reader);
      return reader;
    },

    removeIdleConsumers(idleMs: number, except: string): Promise<string[]> {
      return runScript(redis, REMOVE_IDLE_CONSUMERS_SCRIPT, [o.stream], [o.group, idleMs, except]);
    },

    async trim(nowMs: number): Promise<TrimResult> {
      // 0-0 trims nothing: retention by age off.
      const floor = o.rawEventTtlDays > 0 ? `${nowMs - o.rawEventTtlDays * 86_400_000}-0` : '0-0';
      // PAYFLUX_STREAM_MAXLEN counts events; XTRIM counts entries.
      const perEntry = entrySize.perEntry();
      const maxEntries = o.maxLen > 0 ? Math.max(1, Math.ceil(o.maxLen / perEntry)) : 0;
      const [byLength, byAge, overCap] = await runScript(redis, TRIM_SCRIPT, [o.stream], [o.group, maxEntries, floor]);
      return { trimmedByLength: inEvents(byLength), trimmedByAge: inEvents(byAge), overCap: inEvents(overCap) };
    },

    async range(sinceMs: number, afterId: string | undefined, count: number): Promise<StreamEntry[]> {
      const start = afterId === undefined ? `${sinceMs}-0` : `(${afterId}`;
      const raw = (await redis.callBuffer('XRANGE', o.stream, start, '+', 'COUNT', count)) as RawEntry[];
      return toStreamEntries(raw, 0);
    },

    async dlqList(count: number): Promise<DlqEntry[]> {
      const raw = (await redis.xrange(o.dlqStream, '-', '+', 'COUNT', count)) as [string, string[] | null][];
      return raw.map(([dlqId, fields]) => {
        const f = fieldsOf(fields ?? []);
        return {
          dlqId,
          originalId: text(f.get('original_id')),
          data: text(f.get('data')),
          reason: text(f.get('reason')),
          timestamp: text(f.get('timestamp')),
        };
      });
    },

    async dlqReplay(count: number): Promise<number> {
      const entries = await buffer.dlqList(count);
      if (entries.length === 0) return 0;
      let moved = 0;
      for (let i = 0; i < entries.length; i += SCRIPT_CHUNK) {
        const idsAndPayloads = entries.slice(i, i + SCRIPT_CHUNK).flatMap((e) => [e.dlqId, e.data]);
        moved += await runScript(redis, DLQ_REPLAY_SCRIPT, [o.stream, o.dlqStream], idsAndPayloads);
      }
      return moved;
    },

    async dlqPurge(): Promise<number> {
      // Up to the newest entry seen now, not the whole key: a dead letter that arrives meanwhile
      // (or before a re-sent command runs again) is kept, not deleted unreported.
      const [newest] = await redis.xrevrange(o.dlqStream, '+', '-', 'COUNT', 1);
      if (newest === undefined) return 0;
      const [ms = '0', seq = '0'] = newest[0].split('-');
      return redis.xtrim(o.dlqStream, 'MINID', `${ms}-${BigInt(seq) + 1n}`);
    },

    async close() {
      await Promise.allSettled([...readers].map((r) => r.close()));
      readers.clear();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
  return buffer;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** XINFO replies are flat [name, value, …] arrays. */
export function fieldsOf(flat: readonly unknown[]): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(String(flat[i]), flat[i + 1]);
  return m;
}

async function checkVersion(redis: Redis): Promise<void> {
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
async function ensureStreamOrAbsent(redis: Redis, key: string, variable: string): Promise<void> {
  const type = await redis.type(key);
  if (type !== 'none' && type !== 'stream')
    throw new Error(
      `Redis key "${key}" exists and is not a stream (${type}): rename it or set ${variable} to another name`,
    );
}

async function ensureGroup(redis: Redis, stream: string, group: string): Promise<void> {
  try {
    // From 0, not $: entries already in the stream before the group existed are not skipped.
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  } catch (err) {
    const msg = (err as Error).message;
    if (msg.startsWith('BUSYGROUP')) return;
    if (msg.startsWith('WRONGTYPE')) {
      throw new Error(
        `Redis key "${stream}" exists and is not a stream: rename it or set PAYFLUX_STREAM to another name`,
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
