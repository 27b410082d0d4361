/**
 * An embedded, non-durable buffer with the semantics of one Redis stream and one consumer group,
 * so that `npm start` works on a machine without Redis. Everything is lost when the process
 * exits; `/ready` reports `"buffer":"memory"` and startup logs a warning.
 *
 * Bounds: at most `maxBacklog` unacknowledged entries (appends beyond it fail with
 * BufferUnavailableError, i.e. 503, instead of growing without limit), at most `maxLen`
 * entries kept for replay, at most `maxDedupKeys` dedup marks (oldest evicted first).
 */
import { BufferUnavailableError } from '../errors.js';
import {
  type AppendItem,
  type AppendOutcome,
  type BufferStats,
  type DeadLetterItem,
  type DlqEntry,
  type EventBuffer,
  type StreamEntry,
  type StreamReader,
  type TrimResult,
} from './buffer.js';

export interface MemoryBufferOptions {
  readonly dedupWindowSec: number;
  readonly maxLen: number;
  readonly maxBacklog: number;
  readonly maxDedupKeys: number;
  readonly rawEventTtlDays: number;
  readonly now?: () => number;
}

interface Stored {
  readonly id: string;
  readonly ms: number;
  readonly payload: string;
  readonly ingestedAtMs: number;
}
interface Pending {
  readonly entry: Stored;
  consumer: string;
  deliveredAtMs: number;
  deliveries: number;
}

export function createMemoryBuffer(o: MemoryBufferOptions): EventBuffer {
  const now = o.now ?? Date.now;
  let log: Stored[] = [];
  /** Index in `log` of the next entry to deliver to the group. */
  let cursor = 0;
  let lastMs = 0;
  let seq = 0;
  const pending = new Map<string, Pending>();
  const dedup = new Map<string, number>();
  const consumers = new Map<string, number>();
  let dlq: DlqEntry[] = [];
  let dlqSeq = 0;
  /** Probation marks (pipeline/poison-policy.ts): as long-lived as the rest of this buffer. */
  const probation = new Map<string, number>();
  const waiters = new Set<() => void>();
  let closed = false;

  const nextId = (ms: number): string => {
    if (ms > lastMs) {
      lastMs = ms;
      seq = 0;
    } else seq++;
    return `${lastMs}-${seq}`;
  };

  const isDuplicate = (key: string, t: number): boolean => {
    const exp = dedup.get(key);
    return exp !== undefined && exp > t;
  };

  const remember = (key: string, t: number): void => {
    dedup.delete(key);
    dedup.set(key, t + o.dedupWindowSec * 1000);
    // Insertion order is expiry order (one TTL for all), so expired and excess marks are at the front.
    for (const [k, exp] of dedup) {
      if (dedup.size <= o.maxDedupKeys && exp > t) break;
      dedup.delete(k);
    }
  };

  const toEntry = (s: Stored, deliveries: number): StreamEntry => ({
    id: s.id,
    payload: s.payload,
    ingestedAtMs: s.ingestedAtMs,
    deliveries,
  });

  const wake = (): void => {
    for (const w of waiters) w();
    waiters.clear();
  };

  const takeNew = (consumer: string, count: number): StreamEntry[] => {
    const out: StreamEntry[] = [];
    const t = now();
    while (cursor < log.length && out.length < count) {
      const s = log[cursor++] as Stored;
      pending.set(s.id, { entry: s, consumer, deliveredAtMs: t, deliveries: 1 });
      out.push(toEntry(s, 1));
    }
    return out;
  };

  const buffer: EventBuffer = {
    kind: 'memory',
    partitions: [''],
    owned: false,
    isLeader: () => true,
    checkpoints: () => Promise.resolve(new Map<string, string>()),
    get available() {
      return !closed;
    },

    append(items: readonly AppendItem[]): Promise<AppendOutcome[]> {
      if (closed) return Promise.reject(new BufferUnavailableError('buffer closed'));
      const backlog = log.length - cursor + pending.size;
      if (backlog + items.length > o.maxBacklog) {
        return Promise.reject(new BufferUnavailableError(`memory buffer backlog is full (${backlog} unacknowledged)`));
      }
      const t = now();
      const out = items.map((it): AppendOutcome => {
        if (isDuplicate(it.dedupKey, t)) return 'duplicate';
        remember(it.dedupKey, t);
        log.push({ id: nextId(t), ms: lastMs, payload: ownCopy(it.payload), ingestedAtMs: t });
        return 'accepted';
      });
      wake();
      return Promise.resolve(out);
    },

    ping: () => (closed ? Promise.reject(new BufferUnavailableError('buffer closed')) : Promise.resolve()),

    stats: (): Promise<BufferStats> =>
      Promise.resolve({
        length: log.length,
        pending: pending.size,
        lag: log.length - cursor,
        dlqDepth: dlq.length,
        lastDeliveredId: log[cursor - 1]?.id ?? '0-0',
      }),

    openReader(consumer: string): Promise<StreamReader> {
      consumers.set(consumer, now());
      let readerClosed = false;
      const reader: StreamReader = {
        consumer,
        probation: {
          strikes: (ids) => {
            const out = new Map<string, number>();
            for (const id of ids) {
              const n = probation.get(id);
              if (n !== undefined) out.set(id, n);
            }
            return Promise.resolve(out);
          },
          mark: (id, strikes) => {
            probation.set(id, strikes);
            return Promise.resolve();
          },
          clear: (id) => {
            probation.delete(id);
            return Promise.resolve();
          },
        },
        async read(count: number, blockMs: number): Promise<StreamEntry[]> {
          consumers.set(consumer, now());
          if (cursor >= log.length && !readerClosed && !closed) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                waiters.delete(done);
                resolve();
              }, blockMs);
              const done = (): void => {
                clearTimeout(timer);
                resolve();
              };
              waiters.add(done);
            });
          }
          return readerClosed ? [] : takeNew(consumer, count);
        },
        reclaim(idleMs: number, count: number): Promise<StreamEntry[]> {
          const t = now();
          const out: StreamEntry[] = [];
          for (const p of pending.values()) {
            if (out.length >= count) break;
            if (t - p.deliveredAtMs < idleMs) continue;
            p.consumer = consumer;
            p.deliveredAtMs = t;
            p.deliveries++;
            out.push(toEntry(p.entry, p.deliveries));
          }
          return Promise.resolve(out);
        },
        ack(ids: readonly string[]): Promise<void> {
          for (const id of ids) pending.delete(id);
          return Promise.resolve();
        },
        deadLetter(items: readonly DeadLetterItem[]): Promise<void> {
          const ts = new Date(now()).toISOString();
          for (const it of items) {
            dlq.push({
              dlqId: `${now()}-${dlqSeq++}`,
              originalId: it.id,
              data: it.data ?? '',
              reason: it.reason,
              timestamp: ts,
            });
            pending.delete(it.entryId);
          }
          return Promise.resolve();
        },
        close(): Promise<void> {
          readerClosed = true;
          wake();
          return Promise.resolve();
        },
      };
      return Promise.resolve(reader);
    },

    removeIdleConsumers(idleMs: number, except: string): Promise<string[]> {
      const t = now();
      const busy = new Set([...pending.values()].map((p) => p.consumer));
      const removed = [...consumers]
        .filter(([c, seen]) => c !== except && !busy.has(c) && t - seen > idleMs)
        .map(([c]) => c);
      for (const c of removed) consumers.delete(c);
      return Promise.resolve(removed);
    },

    trim(nowMs: number): Promise<TrimResult> {
      // Protected: everything at or after the oldest pending entry or the delivery cursor.
      let safe = cursor;
      for (const p of pending.values()) safe = Math.min(safe, log.indexOf(p.entry));
      const floorMs = o.rawEventTtlDays > 0 ? nowMs - o.rawEventTtlDays * 86_400_000 : -Infinity;
      let byAge = 0;
      while (byAge < safe && (log[byAge] as Stored).ms < floorMs) byAge++;
      const excess = o.maxLen > 0 ? Math.max(0, log.length - byAge - o.maxLen) : 0;
      const byLength = Math.min(excess, safe - byAge);
      const cut = byAge + byLength;
      if (cut > 0) {
        log = log.slice(cut);
        cursor -= cut;
      }
      return Promise.resolve({ trimmedByLength: byLength, trimmedByAge: byAge, overCap: excess - byLength });
    },

    range(sinceMs: number, afterId: string | undefined, count: number): Promise<StreamEntry[]> {
      let i =
        afterId === undefined ? log.findIndex((s) => s.ms >= sinceMs) : log.findIndex((s) => s.id === afterId) + 1;
      if (i < 0) i = log.length;
      return Promise.resolve(log.slice(i, i + count).map((s) => toEntry(s, 0)));
    },

    dlqList: (count: number) => Promise.resolve(dlq.slice(0, count)),

    dlqReplay(count: number): Promise<number> {
      const moved = dlq.slice(0, count);
      dlq = dlq.slice(moved.length);
      const t = now();
      for (const d of moved) log.push({ id: nextId(t), ms: lastMs, payload: d.data, ingestedAtMs: t });
      wake();
      return Promise.resolve(moved.length);
    },

    dlqPurge(): Promise<number> {
      const n = dlq.length;
      dlq = [];
      return Promise.resolve(n);
    },

    close(): Promise<void> {
      closed = true;
      wake();
      return Promise.resolve();
    },
  };
  return buffer;
}

/**
 * A payload as a string of its own: a batch item's text is a view into its request's body
 * (http/ingest-bodies.ts), which would keep the whole body, up to 8 MiB, alive for as long as
 * the entry is kept. Prepending a character makes a new string that `slice` flattens into a
 * fresh copy (~150 ns for 400 characters). The Redis buffer needs none: it joins a call's
 * payloads into one new string.
 */
function ownCopy(payload: string): string {
  return (' ' + payload).slice(1);
}
