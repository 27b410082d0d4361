/**
 * Exact ownership of partitions by consumers: every partition is read, scored and committed by
 * one consumer at a time, and a consumer that lost it can never commit to it again.
 *
 *   every lease/3, and at once when a membership check (every 100 ms) sees the members change,
 *   every 100 ms while a hand-over is under way:
 *                   HEARTBEAT (members zset) ─▶ rendezvous(partition, members) = desired owner
 *       desired, not held ─▶ ACQUIRE (SET NX PX + INCR epoch) ─▶ GET checkpoint ─▶ restore
 *                            ─▶ adopt the previous owner's pending entries ─▶ read
 *       held, not desired ─▶ stop reading; once its batch is committed ─▶ RELEASE ─▶ forget
 *       held             ─▶ RENEW (epoch still ours?) ─ no ─▶ forget (fenced)
 *   each batch:      COMMIT = epoch check + XACK + checkpoint + warnings + lease extension, one script
 *
 * Rendezvous hashing moves only the partitions a joining or leaving member wins or held. The
 * checkpoint (window state, incident state, last applied id) is written by the same script that
 * acknowledges the batch, so a new owner restores exactly the state after the last
 * acknowledged entry and replays the rest (the pending entries it adopts, in stream order):
 * scores after a failover are those one consumer would have produced. A paused owner that wakes
 * up finds its commit refused (the epoch moved on) and drops the partition; its batch in flight
 * was exported once more, by both — the only duplicates.
 */
import type { Logger } from 'pino';
import type { CommitRecord, DeadLetterItem, OwnershipHooks, StreamEntry, StreamReader } from './buffer.js';
import {
  ACQUIRE_SCRIPT,
  COMMIT_SCRIPT,
  HEARTBEAT_SCRIPT,
  LEAVE_SCRIPT,
  RELEASE_SCRIPT,
  RENEW_SCRIPT,
} from './ownership-lua.js';
import { createPartitionedReader, type PartitionReader } from './partitioned-reader.js';
import { recordArgs, recordKeys, UPSERT_SCRIPT } from './records-lua.js';
import type { Partition } from './partitions.js';
import type { RedisClient } from './redis-client.js';
import { FencedError, type PartitionStreamReader } from './redis-reader.js';
import { runScript } from './redis-script.js';
import { rendezvousOwner } from '../rendezvous.js';

export interface OwnershipOptions {
  readonly redis: RedisClient;
  readonly consumer: string;
  readonly group: string;
  readonly partitions: readonly Partition[];
  /** The members zset and the leader lease's key prefix (one slot on a Cluster). */
  readonly membersKey: string;
  /** PAYFLUX_LEASE_TTL_MS: lease and membership time to live; renewed every third of it. */
  readonly leaseMs: number;
  readonly hooks: OwnershipHooks;
  readonly readerOf: (p: Partition) => Promise<PartitionStreamReader>;
  /** The single-stream layout's stream, drained first and read by every consumer. */
  readonly legacy?: { readonly reader: StreamReader; readonly drained: () => Promise<boolean> };
  readonly logger: Logger;
  readonly onChange?: (owned: readonly string[]) => void;
}

interface Held {
  readonly p: Partition;
  epoch: number;
  releasing: boolean;
  readonly reader: PartitionStreamReader;
}

/**
 * How often the members are checked between lease renewals, and a hand-over under way (a
 * partition to release after its batch, or one this consumer waits for) is taken up again:
 * consumers started together split the partitions within a few of these, not at a renewal.
 */
const WATCH_MS = 100;

export interface OwnedReader extends StreamReader {
  /** The partitions this consumer holds now. */
  owned(): string[];
}

/** A `StreamReader` over the partitions this consumer owns; see the module comment. */
export function createOwnedReader(o: OwnershipOptions): OwnedReader {
  const held = new Map<string, Held>();
  const readers = new Map<string, PartitionStreamReader>();
  /** Epoch of each partition when its latest batch was read: that batch commits under it. */
  const readEpoch = new Map<string, number>();
  let unacked: string | undefined;
  /** The last entry id committed per partition: what a commit without entries names in its checkpoint. */
  const lastIds = new Map<string, string>();
  /** Records staged and not yet written, by processor (kept across a failed commit's retry). */
  const pending = new Map<string, CommitRecord[]>();
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let closed = false;
  const key = (p: Partition): [string, string] => [p.lease, p.epoch];

  const wrap = (name: string, h: Held): PartitionReader => ({
    name,
    reader: {
      consumer: o.consumer,
      probation: h.reader.probation,
      read: async (count, blockMs) => {
        const epoch = h.epoch;
        try {
          const got = await h.reader.read(count, blockMs);
          if (got.length > 0) readEpoch.set(name, epoch);
          return got;
        } catch (err) {
          if (!(err instanceof FencedError)) throw err;
          o.logger.warn({ partition: name, epoch }, 'partition_read_fenced');
          if (held.get(name) === h) drop(name, 'fenced');
          return [];
        }
      },
      // Only the owner reads a partition, and it adopted every pending entry when it took it
      // over: there is nobody else's to reclaim.
      reclaim: () => Promise.resolve([]),
      ack: (ids) => h.reader.ack(ids),
      deadLetter: (items) => h.reader.deadLetter(items),
      close: () => Promise.resolve(),
    },
  });
  const wrapped = new Map<string, PartitionReader>();
  /** Every partition held: a releasing one's entries already read are still scored and committed. */
  const holding = (): PartitionReader[] => {
    const out: PartitionReader[] = [];
    for (const [name, h] of held) out.push(wrapped.get(name) ?? wrap(name, h));
    return out;
  };
  const legacyReader: PartitionReader | undefined =
    o.legacy === undefined ? undefined : { name: '', reader: o.legacy.reader };
  const inner = createPartitionedReader({
    consumer: o.consumer,
    partitions: holding,
    reads: (name) => held.get(name)?.releasing !== true,
    drainFirst:
      o.legacy === undefined || legacyReader === undefined
        ? undefined
        : { reader: legacyReader, drained: o.legacy.drained },
  });

  /**
   * Partitions dropped while their batch was being scored: the stages still hold its state,
   * which is forgotten once that batch's commit (refused, or committing nothing) is through.
   * Forgotten at once, the rest of the batch would be scored on an emptied window and exported.
   */
  const forgetAfterCommit = new Set<string>();
  const drop = (name: string, why: string): void => {
    if (!held.delete(name)) return;
    wrapped.delete(name);
    if (unacked === name) forgetAfterCommit.add(name);
    else o.hooks.forget(name);
    o.logger.info({ partition: name, reason: why }, 'partition_released');
    o.onChange?.([...held.keys()]);
  };

  const acquire = async (p: Partition): Promise<void> => {
    const epoch = await runScript(o.redis, ACQUIRE_SCRIPT, key(p), [o.consumer, o.leaseMs]);
    if (epoch === 0) return;
    const checkpoint = (await o.redis.get(p.checkpoint)) ?? undefined;
    o.hooks.restore(p.name, checkpoint);
    let reader = readers.get(p.name);
    if (reader === undefined) {
      reader = await o.readerOf(p);
      readers.set(p.name, reader);
    }
    reader.fence(p.epoch, epoch);
    const adopted = await reader.adopt();
    const h: Held = { p, epoch, releasing: false, reader };
    held.set(p.name, h);
    wrapped.set(p.name, wrap(p.name, h));
    o.logger.info({ partition: p.name, epoch, adopted, checkpoint: checkpoint !== undefined }, 'partition_acquired');
    o.onChange?.([...held.keys()]);
  };

  const renewMs = Math.max(50, Math.floor(o.leaseMs / 3));
  const heartbeat = (): Promise<string[]> =>
    runScript(o.redis, HEARTBEAT_SCRIPT, [o.membersKey], [o.consumer, o.leaseMs]);
  /** The members the last tick saw, its time, and whether it left a hand-over under way. */
  let seen = '';
  let tickedAt = 0;
  let settled = false;
  const tick = async (): Promise<void> => {
    tickedAt = Date.now();
    const members = await heartbeat();
    seen = members.join('\n');
    let moving = false;
    for (const p of o.partitions) {
      const mine = rendezvousOwner(p.name, members) === o.consumer;
      const h = held.get(p.name);
      if (h === undefined) {
        // Not while a batch of an earlier hold is being scored: restoring the checkpoint would
        // change the state under it (it is taken at the next tick, after that batch's commit).
        if (mine && unacked !== p.name && !forgetAfterCommit.has(p.name)) await acquire(p);
        if (mine && !held.has(p.name)) moving = true;
        continue;
      }
      if (!mine) h.releasing = true;
      if (h.releasing && !inner.busy(p.name) && unacked !== p.name) {
        await runScript(o.redis, RELEASE_SCRIPT, key(p), [o.consumer, h.epoch]);
        drop(p.name, 'rebalanced');
        continue;
      }
      if (h.releasing) moving = true;
      const ok = await runScript(o.redis, RENEW_SCRIPT, key(p), [o.consumer, h.epoch, o.leaseMs]);
      if (ok === 0) drop(p.name, 'lease_lost');
    }
    settled = !moving;
  };
  /** A renewal when due or a hand-over is under way; otherwise a membership check, and a tick if it changed. */
  const step = async (): Promise<void> => {
    if (settled && Date.now() - tickedAt < renewMs && (await heartbeat()).join('\n') === seen) return;
    await tick();
  };

  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(
      () => {
        ticking = step()
          .catch((err: unknown) => o.logger.warn({ err: (err as Error).message }, 'ownership_tick_failed'))
          .finally(() => {
            ticking = undefined;
            schedule();
          });
      },
      Math.min(WATCH_MS, renewMs),
    );
    timer.unref();
  };

  let started = false;
  const ensureStarted = async (): Promise<void> => {
    if (started) return;
    started = true;
    // The first pass runs inline: the consumer's state exists once it reads.
    await tick().catch((err: unknown) => o.logger.warn({ err: (err as Error).message }, 'ownership_tick_failed'));
    schedule();
  };

  /**
   * The latest read's entries not yet acknowledged or dead-lettered: the consumer may pass one
   * read through the stages in several batches (a suspect alone: pipeline/poison-policy.ts),
   * and the checkpoint holds the state after all of them, so the commit waits for the last.
   */
  const open = new Set<string>();
  const acked: string[] = [];
  let lastId = '';
  const took = (got: StreamEntry[]): StreamEntry[] => {
    if (got.length === 0) return got;
    unacked = inner.current;
    open.clear();
    acked.length = 0;
    for (const e of got) open.add(e.id);
    lastId = got[got.length - 1]?.id ?? '';
    return got;
  };

  return {
    consumer: o.consumer,
    probation: inner.probation,
    owned: () => [...held.keys()],

    async read(count: number, blockMs: number): Promise<StreamEntry[]> {
      await ensureStarted();
      while (ticking !== undefined) await ticking;
      const got = await inner.read(count, blockMs);
      const name = inner.current;
      // Entries read for a partition dropped since (its lease lost): the new owner adopted them
      // with the previous owner's pending entries; scoring them here, on a state dropped with
      // the partition, would export other scores. They are left to it.
      if (got.length > 0 && name !== '' && held.get(name)?.epoch !== readEpoch.get(name)) {
        o.logger.info({ partition: name, entries: got.length }, 'partition_read_discarded');
        return [];
      }
      return took(got);
    },

    async reclaim(idleMs: number, count: number): Promise<StreamEntry[]> {
      await ensureStarted();
      while (ticking !== undefined) await ticking;
      return took(await inner.reclaim(idleMs, count));
    },

    async ack(ids: readonly string[]): Promise<void> {
      const name = inner.current;
      for (const [proc, records] of o.hooks.takeRecords())
        pending.set(proc, [...(pending.get(proc) ?? []), ...records]);
      if (unacked === undefined) {
        await writeRecords(undefined);
        return;
      }
      if (name === '') {
        await writeRecords(undefined);
        await inner.ack(ids);
        for (const id of ids) open.delete(id);
        if (open.size === 0) unacked = undefined;
        return;
      }
      for (const id of ids) {
        if (open.delete(id)) acked.push(id);
      }
      if (open.size > 0) return;
      await writeRecords(name);
      await commit(name, acked);
    },

    async deadLetter(items: readonly DeadLetterItem[]): Promise<void> {
      await inner.deadLetter(items);
      for (const it of items) open.delete(it.entryId);
    },

    async close(): Promise<void> {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      await ticking;
      await inner.close();
      await Promise.allSettled([...readers.values()].map((r) => r.close()));
      // Leave at once, so that the others take over now rather than after the lease; a
      // partition whose batch is still being delivered is released by its commit.
      await Promise.allSettled([
        runScript(o.redis, LEAVE_SCRIPT, [o.membersKey], [o.consumer]),
        ...[...held.values()]
          .filter((h) => h.p.name !== unacked)
          .map((h) => runScript(o.redis, RELEASE_SCRIPT, key(h.p), [o.consumer, h.epoch])),
      ]);
    },
  };

  async function commit(name: string, ids: readonly string[]): Promise<void> {
    const p = o.partitions.find((x) => x.name === name);
    const epoch = readEpoch.get(name);
    if (p === undefined || epoch === undefined) throw new Error(`no partition "${name}" to commit to`);
    // A partition already dropped commits nothing: its state is gone, the new owner replays.
    const checkpoint = held.get(name)?.epoch === epoch ? o.hooks.checkpoint(name, lastId) : '';
    // The batch's records land with its acks, also for a partition released since it was read.
    const ok = await runCommit(p, epoch, checkpoint, ids, pending.get(name) ?? []);
    pending.delete(name);
    if (ok === 1) lastIds.set(name, lastId);
    unacked = undefined;
    if (forgetAfterCommit.delete(name)) o.hooks.forget(name);
    if (ok === 0) {
      o.logger.warn({ partition: name, epoch }, 'partition_commit_fenced');
      if (held.get(name)?.epoch === epoch) drop(name, 'fenced');
    } else if (closed) await runScript(o.redis, RELEASE_SCRIPT, key(p), [o.consumer, epoch]);
  }

  /** The commit script: 1 done, 0 refused (the epoch moved on). */
  function runCommit(
    p: Partition,
    epoch: number,
    checkpoint: string,
    ids: readonly string[],
    records: readonly CommitRecord[],
  ): Promise<number> {
    return runScript<number>(
      o.redis,
      COMMIT_SCRIPT,
      [p.stream, p.lease, p.epoch, p.checkpoint, ...recordKeys(records)],
      // One flat array: ioredis flattens one level of arguments only.
      [o.group, o.consumer, epoch, o.leaseMs, checkpoint, ids.length].concat(ids, recordArgs(records)),
    );
  }

  /**
   * Every staged record but `except`'s (which its own commit writes): a held partition's by a
   * commit without entries, under its fence, with its checkpoint (the state that produced them);
   * the rest (processors without a partition, a partition drained from the single-stream layout
   * while another consumer holds it) by a plain upsert in their slot.
   */
  async function writeRecords(except: string | undefined): Promise<void> {
    for (const [name, records] of pending) {
      if (name === except) continue;
      const h = held.get(name);
      if (h === undefined) {
        if (records.length > 0) await runScript(o.redis, UPSERT_SCRIPT, recordKeys(records), recordArgs(records));
        pending.delete(name);
        continue;
      }
      const ok = await runCommit(h.p, h.epoch, o.hooks.checkpoint(name, lastIds.get(name) ?? ''), [], records);
      pending.delete(name);
      if (ok === 0) {
        o.logger.warn({ partition: name, epoch: h.epoch }, 'partition_commit_fenced');
        if (held.get(name) === h) drop(name, 'fenced');
      }
    }
  }
}
