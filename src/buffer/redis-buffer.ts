/**
 * The production buffer: Redis Streams, standalone or Cluster, one partition per processor
 * (partitions.ts), each with its stream, consumer group and dead-letter stream under one hash tag.
 *
 * Connections: one shared command client (appends, acks, stats) with the offline queue off,
 * so that while Redis is down every command fails at once and ingest answers 503 instead of
 * queueing; and one dedicated connection per partition a reader reads, because XREADGROUP
 * BLOCK holds its connection for up to a second.
 */
import { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import {
  DEAD_LETTER_SCRIPT,
  DLQ_REPLAY_SCRIPT,
  REMOVE_IDLE_CONSUMERS_SCRIPT,
  SCRIPT_CHUNK,
  TRIM_SCRIPT,
} from './lua.js';
import { createRedisReader, type PartitionStreamReader } from './redis-reader.js';
import { createOwnedReader } from './ownership.js';
import { startLeaderLease } from './leader-lease.js';
import { hostname } from 'node:os';
import { createPartitionedReader, type PartitionReader } from './partitioned-reader.js';
import { partitionLayout, type Partition } from './partitions.js';
import { clusterTag, createRedisClient, isReady } from './redis-client.js';
import { runScript } from './redis-script.js';
import { BufferUnavailableError } from '../errors.js';
import {
  type AppendItem,
  type AppendOutcome,
  type BufferStats,
  type DlqEntry,
  type EventBuffer,
  type OwnershipHooks,
  type PartitionStats,
  type StreamEntry,
  type StreamReader,
  type TrimResult,
} from './buffer.js';
import { toStreamEntries, type RawEntry } from './redis-entries.js';
import { deadLetters, partitionStats } from './partition-stats.js';
import { compareStreamIds } from '../stream-id.js';
import {
  checkLazyExpire,
  checkVersion,
  connectWithin,
  ensureGroup,
  ensureStreamOrAbsent,
  nodeForSlot,
  trackErrors,
} from './redis-setup.js';
import { createEntrySize, eventsIn } from './entry-size.js';
import { appendPacked, dedupBucketOf } from './packed-append.js';

export interface RedisBufferOptions {
  readonly url: string;
  /** Seed nodes (host:port) of a Redis Cluster; empty or absent = standalone at `url`. */
  readonly clusterNodes?: readonly string[];
  readonly password: string | undefined;
  readonly tls: boolean;
  /** REDIS_SOCKET_TIMEOUT_MS: drop a connection whose commands got no answer for this long; 0 = never. */
  readonly socketTimeoutMs?: number;
  readonly keyPrefix: string;
  /** The configured processors: one partition each. Absent or empty: the legacy stream only. */
  readonly processors?: readonly string[];
  readonly stream: string;
  readonly group: string;
  readonly dlqStream: string;
  readonly dedupWindowSec: number;
  readonly maxLen: number;
  readonly rawEventTtlDays: number;
  /** Replicas that must acknowledge each append (WAIT) before it counts as stored; 0 = off. */
  readonly waitReplicas?: number;
  readonly waitTimeoutMs?: number;
  readonly logger: Logger;
  /** Passed to each reader (`RedisReaderOptions.watchdogGraceMs`); tests shorten it. */
  readonly readWatchdogGraceMs?: number;
  /** The clock that picks the dedup bucket (epoch ms); tests move it. */
  readonly now?: () => number;
  /** Give up connecting at start after this long (ms); later disconnects retry forever. */
  readonly connectTimeoutMs?: number;
  /** PAYFLUX_LEASE_TTL_MS: partition leases, consumer membership and the leader lease (10000). */
  readonly leaseMs?: number;
  /** This node's name in the leader lease (PAYFLUX_CONSUMER_NAME); hostname-pid by default. */
  readonly nodeName?: string;
}

/** Connect, check the server version, create the groups; throws a clear error on a wrong key type. */
export async function createRedisBuffer(o: RedisBufferOptions): Promise<EventBuffer> {
  const redis = createRedisClient(o);
  const cluster = redis instanceof Cluster;
  const errors = trackErrors(redis, o.logger);
  const layout = partitionLayout({
    processors: o.processors ?? [],
    keyPrefix: o.keyPrefix,
    stream: o.stream,
    dlqStream: o.dlqStream,
  });
  // The legacy stream's keys share no hash tag, so a Cluster (which no single-stream deployment
  // ever ran on) has none; a standalone Redis keeps reading it.
  const legacy: Partition | undefined = cluster && layout.partitions.length > 0 ? undefined : layout.legacy;
  const all: readonly Partition[] = legacy === undefined ? layout.partitions : [legacy, ...layout.partitions];
  try {
    // A Cluster client retries its slot map for ever: bounded here, connectBuffer retries.
    await connectWithin(redis, o.connectTimeoutMs ?? 10_000);
    await checkVersion(redis);
    await checkLazyExpire(redis, o.logger);
    for (const p of all) {
      await ensureGroup(redis, p.stream, o.group, p === legacy ? 'PAYFLUX_STREAM' : 'PAYFLUX_PROCESSORS');
      await ensureStreamOrAbsent(redis, p.dlq, 'PAYFLUX_DLQ_STREAM');
    }
    errors.started = true;
  } catch (err) {
    redis.disconnect();
    // ioredis rejects a refused connection with "Connection is closed.": the socket's own error says why.
    throw (err as Error).message === 'Connection is closed.' && errors.last !== undefined ? errors.last : err;
  }
  const byName = new Map(all.map((p) => [p.name, p]));
  const partitionFor = (item: AppendItem): Partition => {
    const p = item.partition === undefined ? legacy : (layout.partitionOf(item.partition) ?? legacy);
    if (p === undefined) throw new BufferUnavailableError(`no partition for processor "${item.partition ?? ''}"`);
    return p;
  };
  const entrySize = createEntrySize();
  /** Entries → events, for lengths and caps that Redis counts in entries. */
  const inEvents = (entries: number): number => Math.round(entries * entrySize.perEntry());
  const waitReplicas = o.waitReplicas ?? 0;
  const waitTimeoutMs = o.waitTimeoutMs ?? 200;

  /**
   * One partition's share of an append: its events packed into one entry in one script call in
   * its slot (buffer/packed-append.ts), then WAIT if asked. 1 stored, 0 duplicate, per item.
   */
  const appendTo = async (p: Partition, items: readonly AppendItem[]): Promise<number[]> => {
    const bucket = dedupBucketOf((o.now ?? Date.now)(), o.dedupWindowSec);
    const res = await appendPacked(redis, p, items, bucket, o.dedupWindowSec);
    if (waitReplicas > 0) {
      // WAIT counts the replicas that have every write this connection made to that master.
      const node = nodeForSlot(redis, p.slot);
      const acked = (await node.call('WAIT', waitReplicas, waitTimeoutMs)) as number;
      if (acked < waitReplicas)
        throw new BufferUnavailableError(
          `${acked} of ${waitReplicas} replicas acknowledged within ${waitTimeoutMs} ms`,
        );
    }
    return res;
  };

  const statsOf = (p: Partition): Promise<PartitionStats> => partitionStats(redis, p, o.group, inEvents);

  /** Whether the legacy stream has nothing left to read or acknowledge (the upgrade's end). */
  const legacyDrained = async (): Promise<boolean> => {
    if (legacy === undefined) return true;
    const st = await statsOf(legacy);
    return st.lag === 0 && st.pending === 0;
  };

  const readers = new Set<StreamReader>();
  const readerOf = (p: Partition, consumer: string): Promise<PartitionStreamReader> =>
    createRedisReader(redis, {
      stream: p.stream,
      group: o.group,
      dlqStream: p.dlq,
      consumer,
      logger: o.logger,
      watchdogGraceMs: o.readWatchdogGraceMs,
      deadLetter: (stream, dlqKey, args) => runScript(redis, DEAD_LETTER_SCRIPT, [stream, dlqKey], args),
      probationKey: p.probation,
      entrySize,
    });

  const membersKey = `${o.keyPrefix}${clusterTag(redis, 'pf')}members`;
  const leader = startLeaderLease({
    redis,
    key: `${o.keyPrefix}${clusterTag(redis, 'pf')}leader`,
    name: o.nodeName ?? `${hostname()}-${process.pid}`,
    ttlMs: o.leaseMs ?? 10_000,
    logger: o.logger,
  });
  const buffer: EventBuffer = {
    kind: 'redis',
    partitions: all.map((p) => p.name),
    owned: layout.partitions.length > 0,
    isLeader: () => leader.isLeader(),

    async checkpoints(): Promise<Map<string, string>> {
      const got = await Promise.all(layout.partitions.map((p) => redis.get(p.checkpoint)));
      const out = new Map<string, string>();
      layout.partitions.forEach((p, i) => {
        const c = got[i];
        if (c !== null && c !== undefined) out.set(p.name, c);
      });
      return out;
    },
    get available() {
      return isReady(redis);
    },

    async append(items: readonly AppendItem[]): Promise<AppendOutcome[]> {
      if (!isReady(redis)) throw new BufferUnavailableError(`redis is ${redis.status}`);
      // One script call per partition (its slot), all at once. No autopipelining: on a Cluster
      // it mis-groups calls whose key counts differ (ioredis#2109).
      const groups = new Map<Partition, number[]>();
      for (let i = 0; i < items.length; i++) {
        const p = partitionFor(items[i] as AppendItem);
        const idx = groups.get(p);
        if (idx === undefined) groups.set(p, [i]);
        else idx.push(i);
      }
      const out = new Array<AppendOutcome>(items.length);
      // Events stored, and entries written: one per partition that stored any.
      let stored = 0;
      let entries = 0;
      try {
        if (groups.size === 1) {
          const [p] = groups.keys();
          const res = await appendTo(p as Partition, items);
          for (let i = 0; i < res.length; i++) out[i] = res[i] === 1 ? (stored++, 'accepted') : 'duplicate';
          if (res.includes(1)) entries++;
        } else {
          await Promise.all(
            [...groups].map(async ([p, idx]) => {
              const res = await appendTo(
                p,
                idx.map((i) => items[i] as AppendItem),
              );
              for (let j = 0; j < idx.length; j++)
                out[idx[j] as number] = res[j] === 1 ? (stored++, 'accepted') : 'duplicate';
              if (res.includes(1)) entries++;
            }),
          );
        }
      } catch (err) {
        if (err instanceof BufferUnavailableError) throw err;
        throw new BufferUnavailableError(`append failed: ${(err as Error).message}`, { cause: err });
      }
      entrySize.observe(stored, entries);
      return out;
    },

    async ping() {
      await redis.ping();
    },

    get lastError() {
      return redis.status === 'ready' ? undefined : errors.last?.message;
    },

    async probeWrite() {
      // Denied like any write when Redis is at maxmemory (noeviction) or a replica; expires by itself.
      await redis.set(`${o.keyPrefix}ready_probe`, '1', 'PX', 10_000);
    },

    async stats(): Promise<BufferStats> {
      const parts = await Promise.all(all.map(statsOf));
      let length = 0;
      let pending = 0;
      let lag = 0;
      let dlqDepth = 0;
      for (const s of parts) {
        length += s.length;
        pending += s.pending;
        lag += s.lag;
        dlqDepth += s.dlqDepth;
      }
      const lastDeliveredId = parts.length === 1 ? (parts[0]?.lastDeliveredId ?? '0-0') : '0-0';
      return { length, pending, lag, dlqDepth, lastDeliveredId, partitions: parts };
    },

    async openReader(consumer: string, ownership?: OwnershipHooks): Promise<StreamReader> {
      if (ownership !== undefined && layout.partitions.length > 0) {
        const legacyReader = legacy === undefined ? undefined : await readerOf(legacy, consumer);
        const owned = createOwnedReader({
          redis,
          consumer,
          group: o.group,
          partitions: layout.partitions,
          membersKey,
          leaseMs: o.leaseMs ?? 10_000,
          hooks: ownership,
          readerOf: (p) => readerOf(p, consumer),
          legacy: legacyReader === undefined ? undefined : { reader: legacyReader, drained: legacyDrained },
          logger: o.logger,
        });
        readers.add(owned);
        return owned;
      }
      const parts: PartitionReader[] = [];
      for (const p of layout.partitions) parts.push({ name: p.name, reader: await readerOf(p, consumer) });
      const legacyReader = legacy === undefined ? undefined : { name: '', reader: await readerOf(legacy, consumer) };
      // Only the legacy stream (no processors configured): it is the one partition.
      const reader =
        parts.length === 0 && legacyReader !== undefined
          ? legacyReader.reader
          : createPartitionedReader({
              consumer,
              partitions: () => parts,
              drainFirst: legacyReader === undefined ? undefined : { reader: legacyReader, drained: legacyDrained },
            });
      readers.add(reader);
      return reader;
    },

    async removeIdleConsumers(idleMs: number, except: string): Promise<string[]> {
      const removed = await Promise.all(
        all.map((p) => runScript(redis, REMOVE_IDLE_CONSUMERS_SCRIPT, [p.stream], [o.group, idleMs, except])),
      );
      return [...new Set(removed.flat())];
    },

    async trim(nowMs: number): Promise<TrimResult> {
      // 0-0 trims nothing: retention by age off.
      const floor = o.rawEventTtlDays > 0 ? `${nowMs - o.rawEventTtlDays * 86_400_000}-0` : '0-0';
      // PAYFLUX_STREAM_MAXLEN counts events; XTRIM counts entries.
      const perEntry = entrySize.perEntry();
      const maxEntries = o.maxLen > 0 ? Math.max(1, Math.ceil(o.maxLen / perEntry)) : 0;
      const exact = perEntry >= 2 ? '=' : '~';
      const results = await Promise.all(
        all.map((p) => runScript(redis, TRIM_SCRIPT, [p.stream], [o.group, maxEntries, floor, exact])),
      );
      let trimmedByLength = 0;
      let trimmedByAge = 0;
      let overCap = 0;
      for (const [byLength, byAge, over] of results) {
        trimmedByLength += byLength;
        trimmedByAge += byAge;
        overCap += over;
      }
      return {
        trimmedByLength: inEvents(trimmedByLength),
        trimmedByAge: inEvents(trimmedByAge),
        overCap: inEvents(overCap),
      };
    },

    async range(sinceMs: number, afterId: string | undefined, count: number, partition = ''): Promise<StreamEntry[]> {
      const p = byName.get(partition);
      if (p === undefined) return [];
      const start = afterId === undefined ? `${sinceMs}-0` : `(${afterId}`;
      // `count` is in events: one entry first while their size is unknown, then as many as carry about that many.
      const entries = entrySize.known ? Math.max(1, Math.floor(count / entrySize.perEntry())) : 1;
      const raw = (await redis.callBuffer('XRANGE', p.stream, start, '+', 'COUNT', entries)) as RawEntry[];
      const page = toStreamEntries(raw, 0);
      let events = 0;
      for (const e of page) events += eventsIn(e.payload);
      entrySize.observe(events, page.length);
      return page;
    },

    async dlqList(count: number): Promise<DlqEntry[]> {
      const lists = await Promise.all(all.map((p) => deadLetters(redis, p, count)));
      // Oldest first across partitions, as one DLQ would list them.
      return lists
        .flat()
        .sort((a, b) => compareStreamIds(a.dlqId, b.dlqId))
        .slice(0, count);
    },

    async dlqReplay(count: number): Promise<number> {
      const entries = await buffer.dlqList(count);
      let moved = 0;
      for (const p of all) {
        const mine = entries.filter((e) => (e.partition ?? '') === p.name);
        for (let i = 0; i < mine.length; i += SCRIPT_CHUNK) {
          const idsAndPayloads = mine.slice(i, i + SCRIPT_CHUNK).flatMap((e) => [e.dlqId, e.data]);
          moved += await runScript(redis, DLQ_REPLAY_SCRIPT, [p.stream, p.dlq], idsAndPayloads);
        }
      }
      return moved;
    },

    async dlqPurge(): Promise<number> {
      let purged = 0;
      for (const p of all) {
        // Up to the newest entry seen now, not the whole key: a dead letter that arrives meanwhile
        // (or before a re-sent command runs again) is kept, not deleted unreported.
        const [newest] = await redis.xrevrange(p.dlq, '+', '-', 'COUNT', 1);
        if (newest === undefined) continue;
        const [ms = '0', seq = '0'] = newest[0].split('-');
        purged += await redis.xtrim(p.dlq, 'MINID', `${ms}-${BigInt(seq) + 1n}`);
      }
      return purged;
    },

    async close() {
      await Promise.allSettled([...readers].map((r) => r.close()));
      await leader.stop();
      readers.clear();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
  return buffer;
}
