import { Subject, type Subscription } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StreamEntry, StreamReader } from '../../../src/buffer/buffer.js';
import { streamBatches, type StreamBatchesOptions } from '../../../src/sources/stream-batches.js';

/** One call to the fake reader, answered when the test says so. */
interface Call {
  readonly kind: 'read' | 'reclaim';
  readonly args: readonly number[];
  answer(entries: StreamEntry[]): void;
  fail(err: Error): void;
}

/**
 * A fake of our own StreamReader: every read waits for the test to answer it; reclaims answer
 * at once with whatever `reclaimable` holds (nothing by default).
 */
function fakeReader() {
  const calls: Call[] = [];
  let reclaimable: StreamEntry[] = [];
  const reader: StreamReader = {
    consumer: 'c1',
    probation: {
      strikes: () => Promise.resolve(new Map<string, number>()),
      mark: () => Promise.resolve(),
      clear: () => Promise.resolve(),
    },
    read: (count, blockMs) =>
      new Promise<StreamEntry[]>((resolve, reject) =>
        calls.push({ kind: 'read', args: [count, blockMs], answer: resolve, fail: reject }),
      ),
    reclaim: (idleMs, count) => {
      calls.push({ kind: 'reclaim', args: [idleMs, count], answer: () => undefined, fail: () => undefined });
      const out = reclaimable;
      reclaimable = [];
      return Promise.resolve(out);
    },
    ack: () => Promise.resolve(),
    deadLetter: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const reads = () => calls.filter((c) => c.kind === 'read');
  return {
    reader,
    reads,
    reclaims: () => calls.filter((c) => c.kind === 'reclaim'),
    /** The read waiting for an answer (the latest one). */
    lastRead(): Call {
      const last = reads().at(-1);
      if (last === undefined) throw new Error('no read was issued');
      return last;
    },
    offerIdle(entries: StreamEntry[]): void {
      reclaimable = entries;
    },
  };
}

const entry = (id: string): StreamEntry => ({ id, payload: `{"n":"${id}"}`, ingestedAtMs: 0, deliveries: 1 });

/** What came out of a subscription, and how it ended. */
function record(source: ReturnType<typeof streamBatches>) {
  const out = { batches: [] as StreamEntry[][], completed: false, error: undefined as unknown };
  const subscription: Subscription = source.subscribe({
    next: (b) => out.batches.push(b),
    complete: () => (out.completed = true),
    error: (err: unknown) => (out.error = err),
  });
  return { out, subscription };
}

let clock: number;
let stopped: boolean;
let abort: AbortController;
let errors: [string, number][];
let reclaimed: number[];

function options(overrides: Partial<StreamBatchesOptions> = {}): StreamBatchesOptions {
  return {
    count: 10,
    blockMs: 2000,
    claimIdleMs: 60_000,
    stopped: () => stopped,
    signal: abort.signal,
    onError: (err, attempt) => errors.push([err.message, attempt]),
    onReclaimed: (n) => reclaimed.push(n),
    now: () => clock,
    ...overrides,
  };
}

beforeEach(() => {
  // The backoff between failed reads is a sleep on timers, its jitter Math.random: both fixed,
  // so that a backoff is exactly half its ceiling (50 ms, then 100 ms, …).
  vi.useFakeTimers();
  vi.spyOn(Math, 'random').mockReturnValue(0);
  clock = 1_000_000;
  stopped = false;
  abort = new AbortController();
  errors = [];
  reclaimed = [];
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/** Let promise callbacks run without moving the fake clock. */
const settle = () => vi.advanceTimersByTimeAsync(0);

/**
 * A subscribed source over a fake reader, with its demand: `ask()` demands a batch and lets the
 * read be issued, `answer(...ids)` answers the waiting read with entries of those ids and lets
 * the batch through, `fail(message)` fails it, and `ids()` is the ids of every batch emitted.
 */
function started(overrides: Partial<StreamBatchesOptions> = {}) {
  const r = fakeReader();
  const demand$ = new Subject<void>();
  const { out, subscription } = record(streamBatches(r.reader, demand$, options(overrides)));
  return {
    r,
    demand$,
    out,
    subscription,
    async ask(): Promise<void> {
      demand$.next();
      await settle();
    },
    async answer(...ids: string[]): Promise<void> {
      r.lastRead().answer(ids.map(entry));
      await settle();
    },
    async fail(message: string): Promise<void> {
      r.lastRead().fail(new Error(message));
      await settle();
    },
    ids: () => out.batches.map((b) => b.map((e) => e.id)),
  };
}

describe('streamBatches', () => {
  it('emits one batch per demand, each the entries of one read with the configured count and block time', async () => {
    const src = started();
    await src.ask();
    expect(src.r.reads().map((c) => c.args)).toEqual([[10, 2000]]);
    await src.answer('1-0', '1-1');
    await src.ask();
    // A read that timed out in BLOCK with nothing new is an empty batch, not a skipped one.
    await src.answer();
    expect(src.ids()).toEqual([['1-0', '1-1'], []]);
    expect(src.out.completed).toBe(false);
  });

  it('never reads ahead: the next read is issued only once the previous batch was taken and more is asked for', async () => {
    const src = started();
    await src.ask();
    await src.answer('1-0');
    expect(src.out.batches).toHaveLength(1);
    // However long the batch takes downstream, nothing is read until the next demand.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(src.r.reads()).toHaveLength(1);

    // Two demands while a read is in flight: still one read at a time, in order.
    src.demand$.next();
    await src.ask();
    expect(src.r.reads()).toHaveLength(2);
    await src.answer('2-0');
    expect(src.r.reads()).toHaveLength(3);
    await src.answer('3-0');
    expect(src.ids()).toEqual([['1-0'], ['2-0'], ['3-0']]);
  });

  it('retries a failed read after a growing backoff, reporting each attempt, without ending the stream', async () => {
    const src = started();
    await src.ask();
    await src.fail('connection lost');
    expect(errors).toEqual([['connection lost', 0]]);
    await vi.advanceTimersByTimeAsync(49);
    expect(src.r.reads()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(src.r.reads()).toHaveLength(2);

    await src.fail('still down');
    expect(errors).toEqual([
      ['connection lost', 0],
      ['still down', 1],
    ]);
    await vi.advanceTimersByTimeAsync(99);
    expect(src.r.reads()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(src.r.reads()).toHaveLength(3);

    await src.answer('1-0');
    // The demand is answered once, by the read that succeeded.
    expect(src.ids()).toEqual([['1-0']]);
    expect(src.out).toMatchObject({ completed: false, error: undefined });
  });

  it('reclaims idle entries before reading, at most every claimIdleMs / 2, as a batch of their own', async () => {
    const src = started({ claimIdleMs: 60_000 });
    src.r.offerIdle([entry('0-1'), entry('0-2')]);
    await src.ask();
    expect(src.r.reclaims().map((c) => c.args)).toEqual([[60_000, 10]]);
    expect(src.r.reads()).toHaveLength(0);
    expect(reclaimed).toEqual([2]);

    // Not due again before 30 s: the next demand reads.
    clock += 29_999;
    await src.ask();
    expect(src.r.reclaims()).toHaveLength(1);
    await src.answer('5-0');

    // Due: nothing idle, so the same demand goes on to read.
    clock += 1;
    await src.ask();
    expect(src.r.reclaims()).toHaveLength(2);
    expect(src.r.reads()).toHaveLength(2);
    await src.answer();
    expect(reclaimed).toEqual([2]);
    expect(src.ids()).toEqual([['0-1', '0-2'], ['5-0'], []]);
  });

  it('keeps the reclaim schedule per subscription, not per source', async () => {
    const r = fakeReader();
    const demand$ = new Subject<void>();
    const batches$ = streamBatches(r.reader, demand$, options());
    const first = record(batches$);
    demand$.next();
    await settle();
    r.lastRead().answer([]);
    await settle();
    expect(r.reclaims()).toHaveLength(1);
    first.subscription.unsubscribe();

    // A new subscription at the same instant looks for abandoned entries again.
    record(batches$);
    demand$.next();
    await settle();
    expect(r.reclaims()).toHaveLength(2);
  });

  it('issues no read for a demand once stopped, and completes when demand completes', async () => {
    const src = started();
    stopped = true;
    await src.ask();
    expect(src.r.reads()).toHaveLength(0);
    expect(src.out.batches).toEqual([]);
    src.demand$.complete();
    await settle();
    expect(src.out.completed).toBe(true);
  });

  it('does not retry a read that fails while stopping, and emits nothing for it', async () => {
    const src = started();
    await src.ask();
    // As the consumer stops: no more demand, the reader closed under the read in flight.
    stopped = true;
    src.demand$.complete();
    src.r.lastRead().fail(new Error('reader closed'));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(src.r.reads()).toHaveLength(1);
    expect(errors).toEqual([]);
    expect(src.out).toMatchObject({ batches: [], completed: true, error: undefined });
  });

  it('ends a backoff at once when the signal aborts, and reads no more once stopped', async () => {
    const src = started();
    await src.ask();
    await src.fail('connection lost');
    src.demand$.complete();
    // The shutdown's grace ran out during the backoff: no time passes, yet the stream is done.
    stopped = true;
    abort.abort();
    await settle();
    expect(src.r.reads()).toHaveLength(1);
    expect(src.out).toMatchObject({ batches: [], completed: true, error: undefined });
  });

  it('completes after the read in flight when demand completes, with that read as its last batch', async () => {
    const src = started();
    src.demand$.next();
    src.demand$.complete();
    await settle();
    expect(src.out.completed).toBe(false);
    await src.answer('1-0');
    expect(src.ids()).toEqual([['1-0']]);
    expect(src.out.completed).toBe(true);
  });

  it('passes an error of demand on', async () => {
    const src = started();
    const failure = new Error('pipeline failed');
    src.demand$.error(failure);
    await settle();
    expect(src.out.error).toBe(failure);
    expect(src.r.reads()).toHaveLength(0);
  });

  it('stops on unsubscribe: the read in flight is dropped and later demand reads nothing', async () => {
    const src = started();
    await src.ask();
    src.subscription.unsubscribe();
    src.r.lastRead().answer([entry('1-0')]);
    src.demand$.next();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(src.out.batches).toEqual([]);
    expect(src.r.reads()).toHaveLength(1);
    expect(src.demand$.observed).toBe(false);
  });

  it('stops retrying on unsubscribe: a read failing in its backoff is not issued again', async () => {
    const src = started();
    await src.ask();
    await src.fail('connection lost');
    src.subscription.unsubscribe();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(src.r.reads()).toHaveLength(1);
    expect(errors).toEqual([['connection lost', 0]]);
    expect(src.out.batches).toEqual([]);
  });
});
