/**
 * One consumer's reader on its own connection.
 *
 * A watchdog guards the blocking read (and the reclaim, with n = 0): if XREADGROUP BLOCK n
 * has not answered within n + WATCHDOG_GRACE_MS (a half-open socket, a stalled server), the
 * connection is dropped and re-established, again every n + grace while the read stays
 * unanswered. ioredis re-sends the unanswered read on the new connection
 * (autoResendUnfulfilledCommands), or fails it when the connection drops again before it is
 * ready (the caller retries with backoff); entries a lost reply had delivered come back as this
 * consumer's own pending entries (`ownPendingFirst`). Without it a dead TCP peer would stall
 * the consumer until the kernel gives up, minutes later.
 * test/integration/buffer/read-watchdog.test.ts stops a server mid-read.
 */
import { BufferUnavailableError } from '../errors.js';
import { Cluster } from 'ioredis';
import { sleep } from '../backoff.js';
import { connectClient, duplicateClient, type RedisClient } from './redis-client.js';
import type { Logger } from 'pino';
import type { DeadLetterItem, ProbationMarks, StreamEntry, StreamReader } from './buffer.js';
import { SCRIPT_CHUNK } from './lua.js';
import { rawText, toStreamEntries, type RawEntry, type RawText } from './redis-entries.js';
import { eventsIn, type EntrySize } from './entry-size.js';
import { luaScript, runScriptBuffer } from './redis-script.js';

const WATCHDOG_GRACE_MS = 5000;
/** How long close() lets a read in flight finish: a Cluster's blocked read ends by its BLOCK time (1 s by default). */
const CLOSE_WAIT_MS = 1500;

/** DEAD_LETTER_SCRIPT as the buffer defines it: (stream, DLQ, [group, timestamp, entry id, address, payload, reason, …]). */
export type DeadLetterFn = (stream: string, dlq: string, args: readonly string[]) => Promise<number>;

export interface RedisReaderOptions {
  readonly stream: string;
  readonly group: string;
  readonly dlqStream: string;
  readonly consumer: string;
  readonly logger: Logger;
  /** How long past its BLOCK time a read may take before the watchdog reconnects (5000 ms). */
  readonly watchdogGraceMs?: number;
  /** The buffer's dead-letter script (DEAD_LETTER_SCRIPT) on the shared connection. */
  readonly deadLetter: DeadLetterFn;
  /** Events per entry: read counts are in events, XREADGROUP's COUNT in entries. */
  readonly entrySize: EntrySize;

  /** The hash of probation marks (field: entry id, value: when it was set). */
  readonly probationKey: string;
}

/** `[[stream, entries]]`, or null after a BLOCK timeout. Reads ask for Buffers: see `rawText`. */
type ReadReply = [RawText, RawEntry[]][] | null;
type ClaimReply = [RawText, RawEntry[], RawText[]?];
type PendingReply = [string, string, number, number][];

/** A partition's reader: a `StreamReader` that can also take over a partition's pending entries. */
export interface PartitionStreamReader extends StreamReader {
  /**
   * Claim every entry pending in the group (a previous owner's) for this consumer, without
   * counting a delivery, and read them first, in stream order, before new entries. Returns
   * how many were claimed.
   */
  adopt(): Promise<number>;
  /**
   * Read new entries only while `epochKey` holds `epoch` (the partition's fencing epoch): the
   * check and the XREADGROUP run as one script, so a consumer that lost the partition (paused
   * past its lease) can never take entries the new owner is due to read. A refused read throws
   * `FencedError`. Without a fence (undefined), new entries are read with a plain blocking read.
   */
  fence(epochKey: string, epoch: number | undefined): void;
}

/** A read or commit refused because another consumer owns the partition now. */
export class FencedError extends Error {
  constructor(readonly epoch: number) {
    super(`partition fenced: epoch ${epoch} is no longer the partition's`);
  }
}

/**
 * Epoch check + non-blocking XREADGROUP; -1 fenced, else the reply, or the newest id when there
 * is nothing new. By EVALSHA: its text goes to Redis once, not with every read.
 */
const FENCED_READ_SCRIPT = luaScript<ReadReply | number | RawText>(
  'fenced_read',
  `
if redis.call('GET', KEYS[2]) ~= ARGV[4] then return -1 end
local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if r then return r end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if last[1] then return last[1][1] end
return '0-0'`,
);

export async function createRedisReader(shared: RedisClient, o: RedisReaderOptions): Promise<PartitionStreamReader> {
  // Blocking reads get their own connection; an offline queue would only hide outages here
  // (on a standalone Redis: a Cluster keeps its own, see duplicateClient).
  // Its watchdog (above) replaces the shared connection's socket timeout, which a BLOCK longer
  // than it (PAYFLUX_READ_BLOCK_MS) would trip on every quiet read.
  const conn = duplicateClient(shared, {
    connectionName: `payflux-reader-${o.consumer}`,
    enableOfflineQueue: false,
    socketTimeout: undefined,
  });
  conn.on('error', (err: Error) => o.logger.debug({ err: err.message }, 'redis_reader_error'));
  await connectClient(conn);
  let claimCursor = '0-0';
  let closed = false;
  // What close() must let finish or settle: the call in flight on `conn`, if any.
  let inFlight: Promise<unknown> | undefined;
  // A command ioredis holds to re-send after a reconnect stays unsettled for ever when
  // disconnect() comes while it waits to reconnect: close() settles each call still waiting.
  // (Not a race against one promise as long-lived as the reader: each race leaves a reaction on
  // it that keeps the entries read reachable until close, ~15 MB/s at 25k events/s.)
  const waiting = new Set<(err: Error) => void>();
  // The connection's id, to wake its blocked read at close (standalone; a Cluster's read ends by its BLOCK time).
  let clientId: number | undefined;
  if (!(conn instanceof Cluster)) {
    const learnId = (): void => {
      conn.client('ID').then(
        (id) => (clientId = id),
        () => (clientId = undefined),
      );
    };
    conn.on('ready', learnId);
    learnId();
  }
  const untilClosed = <T>(op: Promise<T>): Promise<T> => {
    const tracked = op.finally(() => {
      if (inFlight === tracked) inFlight = undefined;
    });
    inFlight = tracked;
    return new Promise<T>((resolve, reject) => {
      waiting.add(reject);
      void tracked.then(resolve, reject).finally(() => waiting.delete(reject));
    });
  };
  let fence: { key: string; epoch: number } | undefined;
  /**
   * Read this consumer's own pending entries (XREADGROUP … 0) before new ones: at start (a
   * restart under a fixed PAYFLUX_CONSUMER_NAME) and after the connection dropped. A drop can
   * come after Redis served a read (the entries are now pending for us, and with AOF they
   * survive a Redis restart) but before its reply arrived; ioredis then re-sends the read, so
   * nothing fails and those entries would sit unexported until XAUTOCLAIM takes them after
   * PAYFLUX_CLAIM_IDLE_MS (30 s by default).
   */
  let ownPendingFirst = true;
  conn.on('close', () => {
    ownPendingFirst = true;
  });

  /**
   * XACK with the ids in one array, as the append does: spread into a call, PAYFLUX_READ_COUNT's
   * 100k ids come close to the ~125k arguments at which V8's stack overflows.
   */
  const xack = (via: RedisClient, ids: readonly string[]) => via.call('xack', [o.stream, o.group, ...ids]);

  /** Reconnect every `waitMs` + grace while `op` stays unanswered; clear the returned timer after. */
  const watch = (op: 'read' | 'reclaim', waitMs: number): NodeJS.Timeout =>
    setInterval(
      () => {
        o.logger.warn({ op, waitMs }, 'redis_read_watchdog_reconnect');
        conn.disconnect(true);
      },
      waitMs + (o.watchdogGraceMs ?? WATCHDOG_GRACE_MS),
    );

  /** Entries with their delivery counts, which neither XAUTOCLAIM nor a history read report. */
  const withDeliveries = async (live: readonly RawEntry[]): Promise<StreamEntry[]> => {
    const entries = toStreamEntries(live, 1);
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (first === undefined || last === undefined) return [];
    const pending = (await conn.xpending(
      o.stream,
      o.group,
      first.id,
      last.id,
      entries.length,
      o.consumer,
    )) as PendingReply;
    const deliveries = new Map(pending.map(([id, , , n]) => [id, n]));
    return entries.map((e) => ({ ...e, deliveries: deliveries.get(e.id) ?? 1 }));
  };

  /**
   * Run a group command; if the group is gone (NOGROUP), create it again and retry once.
   * The group vanishes when Redis comes back without its data (no AOF, FLUSHALL, a failover to
   * an empty replica) or the stream key was deleted. Ingest keeps appending (XADD recreates the
   * stream, without a group), so without this the consumer would fail every read forever and
   * accepted events would never be exported. The new group starts at 0: everything now in the
   * stream is delivered (at least once), none of it skipped.
   */
  const withGroup = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (err) {
      if (!(err as Error).message.startsWith('NOGROUP')) throw err;
      try {
        await conn.xgroup('CREATE', o.stream, o.group, '0', 'MKSTREAM');
        o.logger.warn({ stream: o.stream, group: o.group }, 'consumer_group_missing_recreated');
      } catch (createErr) {
        if (!(createErr as Error).message.startsWith('BUSYGROUP')) throw createErr;
      }
      claimCursor = '0-0';
      return op();
    }
  };

  /**
   * Entries to ask for so that about `events` events come back. Before its first read, unless
   * this node has seen an entry already, the reader looks at the stream's newest one: a first
   * read of a packed backlog must not take PAYFLUX_READ_COUNT entries of hundreds of events each.
   */
  let peeked = false;
  const entriesFor = async (events: number): Promise<number> => {
    if (!peeked && !o.entrySize.known) {
      peeked = true;
      const [newest] = ((await conn.callBuffer('XREVRANGE', o.stream, '+', '-', 'COUNT', 1)) ?? []) as RawEntry[];
      if (newest !== undefined) observed(toStreamEntries([newest], 0));
    }
    return Math.max(1, Math.floor(events / o.entrySize.perEntry()));
  };
  const observed = (entries: StreamEntry[]): StreamEntry[] => {
    let events = 0;
    for (const e of entries) events += eventsIn(e.payload);
    o.entrySize.observe(events, entries.length);
    return entries;
  };

  const probation: ProbationMarks = {
    async strikes(ids) {
      const out = new Map<string, number>();
      if (ids.length === 0) return out;
      const values = await shared.hmget(o.probationKey, ...ids);
      ids.forEach((id, i) => {
        const v = values[i];
        // A mark holding a time (written before marks counted) is one strike.
        if (v !== null && v !== undefined) out.set(id, /^\d+$/.test(v) ? Number(v) : 1);
      });
      return out;
    },
    async mark(id, strikes) {
      await shared.hset(o.probationKey, id, String(strikes));
    },
    async clear(id) {
      await shared.hdel(o.probationKey, id);
    },
  };

  const readNew = async (events: number, blockMs: number): Promise<StreamEntry[]> => {
    const watchdog = watch('read', blockMs);
    try {
      const count = await entriesFor(events);
      if (ownPendingFirst) {
        const history = (await withGroup(() =>
          conn.callBuffer('XREADGROUP', 'GROUP', o.group, o.consumer, 'COUNT', count, 'STREAMS', o.stream, '0'),
        )) as ReadReply;
        const raw = history?.[0]?.[1] ?? [];
        // Entries deleted (trimmed) while pending come back without fields: nothing to export.
        const gone = raw.filter(([, fields]) => fields === null).map(([id]) => rawText(id));
        if (gone.length > 0) await xack(shared, gone);
        const live = raw.filter(([, fields]) => fields !== null);
        if (live.length > 0) return observed(await withDeliveries(live));
        // Acknowledged batch by batch, so an empty history means all of it was handled.
        if (gone.length === 0) ownPendingFirst = false;
        else return [];
      }
      if (fence !== undefined) {
        const { key, epoch } = fence;
        for (let attempt = 0; ; attempt++) {
          const fenced = await withGroup(() =>
            runScriptBuffer(conn, FENCED_READ_SCRIPT, [o.stream, key], [o.group, o.consumer, count, epoch]),
          );
          if (fenced === -1) throw new FencedError(epoch);
          if (Array.isArray(fenced)) {
            const got = fenced[0];
            return got === undefined ? [] : observed(toStreamEntries(got[1], 1));
          }
          if (attempt > 0) return [];
          // Nothing new: wait for an entry past the newest without taking it (XREAD is not a
          // group read), then take it through the fence at once.
          const woke = (await conn.callBuffer(
            'XREAD',
            'COUNT',
            1,
            'BLOCK',
            blockMs,
            'STREAMS',
            o.stream,
            rawText(fenced as RawText),
          )) as unknown[] | null;
          if (woke === null) return [];
        }
      }
      const reply = (await withGroup(() =>
        conn.callBuffer(
          'XREADGROUP',
          'GROUP',
          o.group,
          o.consumer,
          'COUNT',
          count,
          'BLOCK',
          blockMs,
          'STREAMS',
          o.stream,
          '>',
        ),
      )) as ReadReply;
      const first = reply?.[0];
      return first === undefined ? [] : observed(toStreamEntries(first[1], 1));
    } finally {
      clearInterval(watchdog);
    }
  };

  const reclaimIdle = async (idleMs: number, events: number): Promise<StreamEntry[]> => {
    const watchdog = watch('reclaim', 0);
    try {
      const count = await entriesFor(events);
      const [next, raw] = (await withGroup(() =>
        conn.callBuffer('XAUTOCLAIM', o.stream, o.group, o.consumer, idleMs, claimCursor, 'COUNT', count),
      )) as ClaimReply;
      claimCursor = rawText(next);
      return observed(await withDeliveries(raw.filter(([, fields]) => fields !== null)));
    } finally {
      clearInterval(watchdog);
    }
  };

  const adoptPending = async (): Promise<number> => {
    let cursor = '0-0';
    let claimed = 0;
    do {
      const [next, ids] = (await withGroup(() =>
        conn.call('XAUTOCLAIM', o.stream, o.group, o.consumer, 0, cursor, 'COUNT', 1000, 'JUSTID'),
      )) as [string, string[]];
      claimed += ids.length;
      cursor = next;
    } while (cursor !== '0-0');
    ownPendingFirst = true;
    return claimed;
  };

  return {
    consumer: o.consumer,
    probation,

    read(events: number, blockMs: number): Promise<StreamEntry[]> {
      return untilClosed(readNew(events, blockMs));
    },

    reclaim(idleMs: number, events: number): Promise<StreamEntry[]> {
      return untilClosed(reclaimIdle(idleMs, events));
    },

    async ack(ids: readonly string[]): Promise<void> {
      if (ids.length === 0) return;
      await xack(shared, ids);
    },

    async deadLetter(items: readonly DeadLetterItem[]): Promise<void> {
      const now = new Date().toISOString();
      let args: string[] = [o.group, now];
      for (let i = 0; i < items.length; i++) {
        const it = items[i] as DeadLetterItem;
        args.push(it.entryId, it.id, it.data ?? '', it.reason);
        // Chunk boundaries fall between entries: the script reads an entry's pending state once.
        const next = items[i + 1];
        if (next === undefined || (args.length >= 2 + 4 * SCRIPT_CHUNK && next.entryId !== it.entryId)) {
          await o.deadLetter(o.stream, o.dlqStream, args);
          args = [o.group, now];
        }
      }
    },

    fence(key: string, epoch: number | undefined): void {
      fence = epoch === undefined ? undefined : { key, epoch };
    },

    adopt(): Promise<number> {
      return untilClosed(adoptPending());
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // A read Redis already served must deliver its entries, or they stay pending until the
      // next start: wake a blocked read (it answers as if its BLOCK ran out) and let it finish.
      // Over a connection that is down no answer can come.
      const op = inFlight;
      if (op !== undefined && conn.status === 'ready') {
        if (clientId !== undefined) await shared.client('UNBLOCK', clientId, 'TIMEOUT').catch(() => undefined);
        await Promise.race([op.catch(() => undefined), sleep(CLOSE_WAIT_MS)]);
      }
      // disconnect(), not quit(): QUIT would queue behind a blocked XREADGROUP for up to a second.
      conn.disconnect(false);
      for (const settle of waiting) settle(new BufferUnavailableError('the reader is closed'));
      waiting.clear();
    },
  };
}
