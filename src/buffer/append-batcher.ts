/**
 * Micro-batching in front of the buffer: requests that arrive together share one Redis round
 * trip. A single-event request that awaited its own XADD reached about 0.46× an empty Fastify
 * handler; grouping concurrent requests is what lets ingest keep up with the HTTP layer.
 *
 * - A flush is scheduled with setImmediate, so everything parsed in the same I/O turn goes
 *   together; a flush takes requests up to `maxBatch` events (a larger request goes alone).
 * - At most `maxInFlight` round trips at once; meanwhile new requests queue.
 * - Bounded: at most `maxPending` events queued or in flight. Beyond it, and whenever the buffer
 *   is not connected, `submit` rejects at once (the route answers 503 + Retry-After).
 * - Every request is answered within `timeoutMs`: stored, duplicate, or rejected. A late
 *   round trip may still store events whose request was already answered 503; the client's
 *   retry then gets a duplicate 202, so the event is stored exactly once either way.
 */
import { BufferUnavailableError, OverloadedError } from '../errors.js';
import { type AppendItem, type AppendOutcome, type EventBuffer } from './buffer.js';

export interface AppendBatcherOptions {
  readonly maxBatch: number;
  readonly maxPending: number;
  readonly timeoutMs: number;
  readonly maxInFlight?: number;
  /** Called once per round trip with its size, for metrics. */
  readonly onFlush?: (events: number) => void;
  readonly now?: () => number;
}

export interface AppendBatcher {
  submit(items: readonly AppendItem[]): Promise<AppendOutcome[]>;
  /** Events queued or in flight. */
  readonly pending: number;
  /** Wait for everything queued to be answered; reject new submissions. */
  drain(): Promise<void>;
}

interface Request {
  readonly items: readonly AppendItem[];
  readonly deadline: number;
  readonly resolve: (r: AppendOutcome[]) => void;
  readonly reject: (e: Error) => void;
  settled: boolean;
}

const SWEEP_MS = 25;

export function createAppendBatcher(buffer: EventBuffer, o: AppendBatcherOptions): AppendBatcher {
  const now = o.now ?? Date.now;
  const maxInFlight = o.maxInFlight ?? 4;
  const queue: Request[] = [];
  let pending = 0;
  let inFlight = 0;
  let scheduled = false;
  let draining = false;
  const idle: (() => void)[] = [];

  const settle = (r: Request, result: AppendOutcome[] | Error): void => {
    if (r.settled) return;
    r.settled = true;
    if (result instanceof Error) r.reject(result);
    else r.resolve(result);
  };

  const checkIdle = (): void => {
    if (pending === 0) for (const f of idle.splice(0)) f();
  };

  // Queued requests can outlive their deadline while every round trip slot is stuck on a hung
  // server; the sweep answers them (503) on time. Unref'd: it never keeps the process alive.
  const sweeper = setInterval(() => {
    if (queue.length === 0) return;
    const t = now();
    for (const r of queue) if (r.deadline <= t) settle(r, new BufferUnavailableError('append timed out'));
  }, SWEEP_MS);
  sweeper.unref();

  const flush = (): void => {
    scheduled = false;
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch: Request[] = [];
      let size = 0;
      while (queue.length > 0) {
        const next = queue[0] as Request;
        if (size > 0 && size + next.items.length > o.maxBatch) break;
        queue.shift();
        if (next.settled) {
          pending -= next.items.length;
          continue;
        }
        batch.push(next);
        size += next.items.length;
      }
      if (batch.length > 0) send(batch, size);
    }
    checkIdle();
  };

  const send = (batch: Request[], size: number): void => {
    inFlight++;
    o.onFlush?.(size);
    const items: AppendItem[] = batch.length === 1 ? [...(batch[0] as Request).items] : batch.flatMap((r) => r.items);
    let earliest = Infinity;
    for (const r of batch) earliest = Math.min(earliest, r.deadline);
    const timer = setTimeout(
      () => {
        for (const r of batch) settle(r, new BufferUnavailableError('append timed out'));
      },
      Math.max(0, earliest - now()),
    );
    buffer
      .append(items)
      .then(
        (outcomes) => {
          let off = 0;
          for (const r of batch) {
            settle(r, outcomes.slice(off, off + r.items.length));
            off += r.items.length;
          }
        },
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          for (const r of batch) settle(r, e);
        },
      )
      .finally(() => {
        clearTimeout(timer);
        inFlight--;
        pending -= size;
        if (queue.length > 0) flush();
        else checkIdle();
      });
  };

  return {
    get pending() {
      return pending;
    },

    submit(items: readonly AppendItem[]): Promise<AppendOutcome[]> {
      if (draining) return Promise.reject(new BufferUnavailableError('shutting down'));
      if (!buffer.available) return Promise.reject(new BufferUnavailableError('buffer is not connected'));
      if (pending + items.length > o.maxPending) return Promise.reject(new OverloadedError(pending));
      return new Promise<AppendOutcome[]>((resolve, reject) => {
        queue.push({ items, deadline: now() + o.timeoutMs, resolve, reject, settled: false });
        pending += items.length;
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },

    drain(): Promise<void> {
      draining = true;
      clearInterval(sweeper);
      if (pending === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
  };
}
