/**
 * The event buffer behind ingest and the consumer: a durable, ordered log with a consumer group.
 *
 * Two implementations share this interface: Redis Streams (production) and an in-process
 * memory buffer (non-durable, for `npm start` on a machine with no Redis). Key names and the
 * reader stay behind it so that partitioning by processor can arrive without touching the
 * pipeline.
 */

/** One event to append: the dedup key (already canonical and compact) and the stored JSON. */
export interface AppendItem {
  readonly dedupKey: string;
  readonly payload: string;
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
  /** The group's last-delivered id (`0-0` before the first delivery). */
  readonly lastDeliveredId: string;
}

/**
 * Probation marks of suspect entries (pipeline/poison-policy.ts), kept where they outlive the
 * process: set before a suspect is processed alone, cleared once it passed the stages.
 */
export interface ProbationMarks {
  /** Which of `ids` carry a mark. */
  marked(ids: readonly string[]): Promise<ReadonlySet<string>>;
  mark(id: string): Promise<void>;
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

export interface EventBuffer {
  readonly kind: 'redis' | 'memory';
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
  openReader(consumer: string): Promise<StreamReader>;
  /** Remove consumers of the group that have no pending entries and have been idle for `idleMs`. */
  removeIdleConsumers(idleMs: number, except: string): Promise<string[]>;
  /** Trim by retention without ever removing an undelivered or unacknowledged entry. */
  trim(nowMs: number): Promise<TrimResult>;
  /** Entries stored since `sinceMs` (event log order), for `payflux replay`. */
  range(sinceMs: number, afterId: string | undefined, count: number): Promise<StreamEntry[]>;
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
