/**
 * What a partition holds, read from Redis: its length, pending and undelivered entries (in
 * events), and its dead letters. The Redis buffer sums these over its partitions.
 */
import { streamIdMs } from '../stream-id.js';
import type { DlqEntry, PartitionStats } from './buffer.js';
import type { Partition } from './partitions.js';
import type { RedisClient } from './redis-client.js';

/**
 * Where Redis cannot say how many entries the group has yet to read (see `partitionStats`), up
 * to this many are counted with XRANGE (each comes with its payload: ~0.5 MB for events of the
 * usual size). A larger backlog is estimated as the stream's length times the share of the
 * stream's time span (oldest to newest id) that lies after the first undelivered entry: exact
 * at a steady ingest rate, never under the count nor over the length.
 */
export const LAG_COUNT_CAP = 1000;

/** One partition's figures; `inEvents` turns entry counts into events (entries may be packed). */
export async function partitionStats(
  redis: RedisClient,
  p: Partition,
  group: string,
  inEvents: (entries: number) => number,
): Promise<PartitionStats> {
  const [len, groups, dlq] = (await redis.pipeline().xlen(p.stream).xinfo('GROUPS', p.stream).xlen(p.dlq).exec()) as [
    [Error | null, number],
    [Error | null, unknown[][]],
    [Error | null, number],
  ];
  let pending = 0;
  let lag: unknown = 0;
  let lastDeliveredId = '0-0';
  for (const g of groups[1] ?? []) {
    const f = fieldsOf(g);
    if (f.get('name') === group) {
      pending = Number(f.get('pending') ?? 0);
      lag = f.get('lag');
      lastDeliveredId = text(f.get('last-delivered-id')) || '0-0';
    }
  }
  // Redis 6.2 has no `lag`, and 7.x says null once entries past the group's position were
  // deleted: count them instead (estimated past LAG_COUNT_CAP) rather than report 0.
  const undelivered =
    lag === undefined || lag === null ? await countAfter(redis, p.stream, lastDeliveredId, len[1] ?? 0) : Number(lag);
  return {
    partition: p.name,
    length: inEvents(len[1] ?? 0),
    pending: inEvents(pending),
    lag: inEvents(undelivered),
    dlqDepth: dlq[1] ?? 0,
    lastDeliveredId,
  };
}

async function countAfter(redis: RedisClient, stream: string, id: string, length: number): Promise<number> {
  const after = await redis.xrange(stream, `(${id}`, '+', 'COUNT', LAG_COUNT_CAP);
  const first = after[0];
  if (after.length < LAG_COUNT_CAP || first === undefined) return after.length;
  const [oldest, newest] = await Promise.all([
    redis.xrange(stream, '-', '+', 'COUNT', 1),
    redis.xrevrange(stream, '+', '-', 'COUNT', 1),
  ]);
  const ms = (x: string | undefined): number => (x === undefined ? -1 : streamIdMs(x, x.indexOf('-')));
  const newestMs = ms(newest[0]?.[0]);
  const share = (newestMs - ms(first[0]) + 1) / (newestMs - ms(oldest[0]?.[0]) + 1);
  return Math.min(length, Math.max(after.length, Math.round(length * (Number.isFinite(share) ? share : 1))));
}

/** The oldest `count` dead letters of a partition. */
export async function deadLetters(redis: RedisClient, p: Partition, count: number): Promise<DlqEntry[]> {
  const raw = (await redis.xrange(p.dlq, '-', '+', 'COUNT', count)) as [string, string[] | null][];
  return raw.map(([dlqId, fields]) => {
    const f = fieldsOf(fields ?? []);
    return {
      dlqId,
      originalId: text(f.get('original_id')),
      data: text(f.get('data')),
      reason: text(f.get('reason')),
      timestamp: text(f.get('timestamp')),
      partition: p.name,
    };
  });
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** XINFO replies are flat [name, value, …] arrays. */
function fieldsOf(flat: readonly unknown[]): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(String(flat[i]), flat[i + 1]);
  return m;
}
