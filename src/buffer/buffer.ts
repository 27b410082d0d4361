/**
 * The event buffer behind ingest and the consumer: a durable, ordered log with a consumer group.
 *
 * Two implementations share this interface: Redis Streams (production) and an in-process
 * memory buffer (non-durable, for `npm start` on a machine with no Redis). Key names, partitions
 * and the reader stay behind it: the pipeline sees one reader whose every read is one
 * partition's entries.
 */

/** One event to append: the dedup key (already canonical and compact) and the stored JSON. */
export interface AppendItem {
  readonly dedupKey: string;
  readonly payload: string;
  /** The event's processor, which names its partition; absent: the legacy stream. */
  readonly partition?: string;
}

/** Per item, in order: stored now, or already stored within the dedup window. */
export type AppendOutcome = 'accepted' | 'duplicate';

/** A stream entry as read by the consumer group. */
export interface StreamEntry {
  readonly id: string;
  /** The stored event JSON; undefined when the entry has no payload field (foreign or corrupt). */
  readonly payload: string | undefined;
  /** When ingest stored it, epoch ms; 0 when unknown. */
  readonly ingestedAtMs: number;
  /** The id's two numbers (`streamIdMs`, `streamIdSeq`: -1 when not canonical), when the reader read them. */
  readonly idMs?: number;
  readonly idSeq?: number;
  /** Times delivered to the group, this delivery included. */
  readonly deliveries: number;
}

/** One dead-letter record: an event, and the entry that carries it (`id` equals it unless packed). */
export interface DeadLetterItem {
  /** The event's address, `original_id` in the dead-letter stream. */
  readonly id: string;
  /** The stream entry to acknowledge with it. */
  readonly entryId: string;
  readonly data: string | undefined;
  readonly reason: string;
}

/** An entry of the dead-letter stream: `data, original_id, reason, timestamp`. */
export interface DlqEntry {
  readonly dlqId: string;
  readonly originalId: string;
  readonly data: string;
  readonly reason: string;
  readonly timestamp: string;
  /** The partition whose DLQ holds it ('' the legacy one). */
  readonly partition?: string;
}

/**
 * Lengths count events: Redis's counts of entries times the mean events per entry this node saw
 * appended and read recently (exact while every entry carries one event; `buffer/entry-size.ts`).
 */
export interface BufferStats {
  readonly length: number;
  readonly pending: number;
  /**
   * Entries not yet delivered to the group: XINFO GROUPS `lag`, or where Redis cannot say (6.2,
   * or 7.x after entries past the group's position were deleted) counted up to LAG_COUNT_CAP
   * and estimated beyond (`LAG_COUNT_CAP` in redis-buffer.ts).
   */
  readonly lag: number;
  readonly dlqDepth: number;
  /** The group's last-delivered id (`0-0` before the first delivery, and when there are several partitions). */
  readonly lastDeliveredId: string;
  /** The same figures per partition (length, pending, lag, DLQ depth are their sums). */
  readonly partitions?: readonly PartitionStats[];
}

export interface PartitionStats {
  /** The processor ('' the legacy stream). */
  readonly partition: string;
  readonly length: number;
  readonly pending: number;
  readonly lag: number;
  readonly dlqDepth: number;
  readonly lastDeliveredId: string;
}

/**
 * Probation marks of suspect entries (pipeline/poison-policy.ts), kept where they outlive the
 * process: set before a suspect is processed alone, cleared once it passed the stages. A mark
 * holds its strikes: how many runs began processing the entry alone and never got past it.
 */
export interface ProbationMarks {
  /** The strikes of those of `ids` that carry a mark. */
  strikes(ids: readonly string[]): Promise<ReadonlyMap<string, number>>;
  /** Mark `id` with `strikes` (one more than it had) before it is processed alone. */
  mark(id: string, strikes: number): Promise<void>;
  clear(id: string): Promise<void>;
}

/** The consumer's side: one per consumer, on its own connection (blocking reads). */
export interface StreamReader {
  readonly consumer: string;
  readonly probation: ProbationMarks;
  /**
   * New entries for this consumer, about `count` events' worth (at least one entry, whatever
   * it carries); resolves empty after `blockMs` with nothing new.
   */
  read(count: number, blockMs: number): Promise<StreamEntry[]>;
  /** Entries idle in any consumer's pending list for over `idleMs`, now claimed by this one (about `count` events). */
  reclaim(idleMs: number, count: number): Promise<StreamEntry[]>;
  ack(ids: readonly string[]): Promise<void>;
  /** Append to the DLQ and acknowledge the items' entries, atomically per entry. */
  deadLetter(items: readonly DeadLetterItem[]): Promise<void>;
  /** Interrupt a blocked read and release the connection. */
  close(): Promise<void>;
}

/** What an owning reader asks of the consumer's state, per partition (see buffer/ownership.ts). */
export interface OwnershipHooks {
  /** Restore a partition's state from its checkpoint (undefined: none yet) before its entries are read. */
  restore(partition: string, checkpoint: string | undefined): void;
  /** The partition is no longer this consumer's: drop its state. */
  forget(partition: string): void;
  /** The checkpoint to commit with the batch that ends at `lastId`. */
  checkpoint(partition: string, lastId: string): string;
  /**
   * Records staged since the last call (the batch's warnings), by processor: each partition's
   * are written by its next commit, under its fence; a processor without a partition's, or a
   * partition's this consumer does not hold, by a plain upsert in their slot before the ack.
   */
  takeRecords(): ReadonlyMap<string, readonly CommitRecord[]>;
}

/**
 * A record a commit upserts beside the checkpoint, in the partition's slot (buffer/records-lua.ts):
 * a hash at `key` holding `value`, listed as `member` (score 0, ordered by member) in `indexes`.
 */
export interface CommitRecord {
  readonly key: string;
  readonly value: string;
  readonly member: string;
  readonly indexes: readonly string[];
}

export interface EventBuffer {
  readonly kind: 'redis' | 'memory';
  /** Its partitions' names (processors; '' the legacy stream), for per-partition `range`. */
  readonly partitions: readonly string[];
  /** Whether `openReader` honours ownership hooks (partitions with leases). */
  readonly owned: boolean;
  /**
   * Whether this node should run the work done once per cluster (trimming, idle-consumer
   * cleanup, alert delivery): it holds the leader lease. Always true without one (memory).
   */
  isLeader(): boolean;
  /** Every partition's latest checkpoint (committed by its owner), by processor. */
  checkpoints(): Promise<Map<string, string>>;
  /** Whether appends can be attempted right now (connected and ready). */
  readonly available: boolean;
  /** Dedup and append, atomically per item; all items of one call in one round trip. */
  append(items: readonly AppendItem[]): Promise<AppendOutcome[]>;
  ping(): Promise<void>;
  /**
   * A small write that fails the way appends would (Redis out of memory, a read-only replica,
   * authentication): what readiness probes. Absent: writes cannot fail apart from appends.
   */
  probeWrite?(): Promise<void>;
  /** Why the buffer last failed to connect or answer (an authentication error, say), while it is not available. */
  readonly lastError?: string | undefined;
  stats(): Promise<BufferStats>;
  /**
   * The consumer's reader. With `ownership` (a buffer that has partitions), it reads only the
   * partitions this consumer owns, and its `ack` is the fenced commit of the batch's checkpoint
   * (buffer/ownership.ts); without, every partition.
   */
  openReader(consumer: string, ownership?: OwnershipHooks): Promise<StreamReader>;
  /** Remove consumers of the group that have no pending entries and have been idle for `idleMs`. */
  removeIdleConsumers(idleMs: number, except: string): Promise<string[]>;
  /** Trim by retention without ever removing an undelivered or unacknowledged entry. */
  trim(nowMs: number): Promise<TrimResult>;
  /**
   * A partition's entries stored since `sinceMs` (its log order), about `count` events' worth,
   * for `payflux replay` and the warm-up.
   */
  range(sinceMs: number, afterId: string | undefined, count: number, partition?: string): Promise<StreamEntry[]>;
  dlqList(count: number): Promise<DlqEntry[]>;
  /** Move DLQ entries back to the stream (fresh ids) and delete them from the DLQ. */
  dlqReplay(count: number): Promise<number>;
  dlqPurge(): Promise<number>;
  close(): Promise<void>;
}

export interface TrimResult {
  /** Entries removed because the stream was over `maxLen`. */
  readonly trimmedByLength: number;
  /** Entries removed because they were older than the raw-event retention. */
  readonly trimmedByAge: number;
  /** Entries over `maxLen` that could not be removed because they are not yet acknowledged. */
  readonly overCap: number;
}
