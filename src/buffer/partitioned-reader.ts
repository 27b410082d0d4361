/**
 * One consumer's reader over several partitions, behind the single-stream `StreamReader`
 * interface: each read returns entries of exactly one partition, and `ack` / `deadLetter`
 * apply to the partition of the latest read (the consumer has one batch in flight: it
 * acknowledges a batch before it reads the next).
 *
 *   partition A ── XREADGROUP BLOCK (own connection) ──┐
 *   partition B ── XREADGROUP BLOCK (own connection) ──┼─▶ ready batches ─▶ read() (round robin)
 *   partition C ── XREADGROUP BLOCK (own connection) ──┘
 *
 * A Cluster cannot serve one XREADGROUP over streams in different slots, so every partition
 * has its own blocking read; at most one is in flight per partition, and what they return
 * waits (at most one read's worth per partition) until `read()` takes it.
 *
 * The legacy stream (`drainFirst`) is read alone until it has nothing undelivered and nothing
 * pending, so that each processor's entries are scored in stream order across an upgrade from
 * the single-stream layout; after that it is read like the partitions (entries a DLQ replay or
 * an older producer puts there are still exported).
 */
import type { DeadLetterItem, ProbationMarks, StreamEntry, StreamReader } from './buffer.js';
import { sleep } from '../backoff.js';

export interface PartitionReader {
  readonly name: string;
  readonly reader: StreamReader;
}

export interface PartitionedReaderOptions {
  readonly consumer: string;
  /** The partitions whose entries may be handed out, in the order ties are served. */
  readonly partitions: () => readonly PartitionReader[];
  /**
   * Whether to start new reads of a partition (default: every one): a partition being handed
   * over has what it read already taken and committed, and reads nothing more.
   */
  readonly reads?: (name: string) => boolean;
  /** Read this one alone until `drained()` says it is empty and nothing of it is pending. */
  readonly drainFirst?: { readonly reader: PartitionReader; readonly drained: () => Promise<boolean> };
}

interface Ready {
  readonly name: string;
  readonly entries: StreamEntry[];
}

/** A `StreamReader` over partitions; see the module comment for its ack rule. */
export interface PartitionedReader extends StreamReader {
  /** The partition of the latest read's entries ('' before the first). */
  readonly current: string;
  /** Whether `name` has a read in flight or entries waiting to be taken. */
  busy(name: string): boolean;
}

export function createPartitionedReader(o: PartitionedReaderOptions): PartitionedReader {
  const ready: Ready[] = [];
  const inFlight = new Map<string, Promise<void>>();
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let current: PartitionReader | undefined;
  let legacyDone = o.drainFirst === undefined;
  let claimAt = 0;
  let closed = false;

  const byName = (name: string): PartitionReader | undefined =>
    o.partitions().find((p) => p.name === name) ??
    (o.drainFirst?.reader.name === name ? o.drainFirst.reader : undefined);

  const take = (): StreamEntry[] | undefined => {
    for (let next = ready.shift(); next !== undefined; next = ready.shift()) {
      // A partition given up since its read landed (its lease lost): those entries are its new
      // owner's, adopted as pending or refused by the fence; handed out here they would be
      // scored on a state that is gone, and acknowledged nowhere.
      const p = byName(next.name);
      if (p === undefined) continue;
      current = p;
      return next.entries;
    }
    return undefined;
  };

  /** Every partition read now: after the drain, the legacy stream stays one of them (late writers, DLQ replays). */
  const reading = (): readonly PartitionReader[] =>
    o.drainFirst === undefined ? o.partitions() : [o.drainFirst.reader, ...o.partitions()];

  const startReads = (count: number, blockMs: number): void => {
    for (const p of reading()) {
      if (inFlight.has(p.name) || ready.some((r) => r.name === p.name) || o.reads?.(p.name) === false) continue;
      const read = p.reader.read(count, blockMs).then(
        (entries) => {
          inFlight.delete(p.name);
          if (entries.length > 0) ready.push({ name: p.name, entries });
          wake?.();
        },
        (err: unknown) => {
          inFlight.delete(p.name);
          if (!closed) failure = err instanceof Error ? err : new Error(String(err));
          wake?.();
        },
      );
      inFlight.set(p.name, read);
    }
  };

  const drainLegacy = async (count: number, blockMs: number): Promise<StreamEntry[] | undefined> => {
    const d = o.drainFirst;
    if (d === undefined) return undefined;
    const entries = await d.reader.reader.read(count, 1);
    if (entries.length > 0) {
      current = d.reader;
      return entries;
    }
    if (await d.drained()) {
      legacyDone = true;
      return undefined;
    }
    // Another consumer still holds legacy entries: wait for it to acknowledge them.
    await sleep(Math.min(blockMs, 100));
    return [];
  };

  // Marks live per partition (entry ids are per stream): those of the latest read's partition.
  const probation: ProbationMarks = {
    strikes: (ids) =>
      current === undefined ? Promise.resolve(new Map<string, number>()) : current.reader.probation.strikes(ids),
    mark: async (id, strikes) => {
      if (current === undefined) throw new Error('probation mark before any read');
      await current.reader.probation.mark(id, strikes);
    },
    clear: async (id) => {
      if (current === undefined) throw new Error('probation clear before any read');
      await current.reader.probation.clear(id);
    },
  };

  return {
    consumer: o.consumer,
    probation,
    get current() {
      return current?.name ?? '';
    },

    busy: (name) => inFlight.has(name) || ready.some((r) => r.name === name),

    async read(count: number, blockMs: number): Promise<StreamEntry[]> {
      if (!legacyDone) {
        const legacy = await drainLegacy(count, blockMs);
        if (legacy !== undefined) return legacy;
      }
      const now = take();
      if (now !== undefined) return now;
      startReads(count, blockMs);
      if (inFlight.size === 0 && !closed) {
        // Nothing to read (no partition owned yet): wait as a blocking read would, or the
        // consumer's loop would spin without ever yielding to I/O.
        await sleep(blockMs);
        return [];
      }
      while (inFlight.size > 0) {
        const got = take();
        if (got !== undefined) return got;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        const after = take();
        if (after !== undefined) return after;
      }
      if (failure !== undefined) {
        const err = failure;
        failure = undefined;
        throw err;
      }
      return [];
    },

    async reclaim(idleMs: number, count: number): Promise<StreamEntry[]> {
      const parts = reading();
      for (let i = 0; i < parts.length; i++) {
        const p = parts[(claimAt + i) % parts.length] as PartitionReader;
        // A partition with a read in flight may be handing entries over right now: skip it.
        if (inFlight.has(p.name) || ready.some((r) => r.name === p.name)) continue;
        const entries = await p.reader.reclaim(idleMs, count);
        if (entries.length > 0) {
          claimAt = (claimAt + i + 1) % parts.length;
          current = p;
          return entries;
        }
      }
      return [];
    },

    async ack(ids: readonly string[]): Promise<void> {
      if (ids.length === 0) return;
      if (current === undefined) throw new Error('ack before any read');
      await current.reader.ack(ids);
    },

    async deadLetter(items: readonly DeadLetterItem[]): Promise<void> {
      if (items.length === 0) return;
      if (current === undefined) throw new Error('dead letters before any read');
      await current.reader.deadLetter(items);
    },

    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled(reading().map((p) => p.reader.close()));
      wake?.();
    },
  };
}
