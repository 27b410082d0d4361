import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAppendBatcher } from '../../../src/buffer/append-batcher.js';
import { BufferUnavailableError } from '../../../src/errors.js';
import { type AppendItem, type AppendOutcome, type EventBuffer } from '../../../src/buffer/buffer.js';

/** A fake of our own EventBuffer interface: records calls, answers when told to. */
function fakeBuffer() {
  const calls: AppendItem[][] = [];
  const waiting: { items: AppendItem[]; resolve: (r: AppendOutcome[]) => void; reject: (e: Error) => void }[] = [];
  const seen = new Set<string>();
  const buffer = {
    kind: 'memory',
    available: true,
    append(items: readonly AppendItem[]) {
      calls.push([...items]);
      return new Promise<AppendOutcome[]>((resolve, reject) => waiting.push({ items: [...items], resolve, reject }));
    },
  } as unknown as EventBuffer & { available: boolean };
  const answerAll = () => {
    for (const w of waiting.splice(0)) {
      w.resolve(
        w.items.map((i) => {
          if (seen.has(i.dedupKey)) return 'duplicate';
          seen.add(i.dedupKey);
          return 'accepted';
        }),
      );
    }
  };
  return { buffer, calls, waiting, answerAll };
}

const item = (k: string): AppendItem => ({ dedupKey: k, payload: `{"event_id":"${k}"}` });
/** One turn of the (fake) event loop: the batcher flushes on setImmediate. */
const tick = () => vi.advanceTimersByTimeAsync(0);

// The batcher's timers (the flush, the per-batch timeout, the deadline sweep) run on fake time.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('append batcher', () => {
  it('groups requests submitted in the same turn into one round trip and answers each its own', async () => {
    const f = fakeBuffer();
    const sizes: number[] = [];
    const b = createAppendBatcher(f.buffer, {
      maxBatch: 100,
      maxPending: 1000,
      timeoutMs: 1000,
      onFlush: (n) => sizes.push(n),
    });
    const p1 = b.submit([item('a')]);
    const p2 = b.submit([item('b'), item('a')]);
    const p3 = b.submit([item('c')]);
    await tick();
    expect(f.calls.map((c) => c.map((i) => i.dedupKey))).toEqual([['a', 'b', 'a', 'c']]);
    f.answerAll();
    expect(await p1).toEqual(['accepted']);
    expect(await p2).toEqual(['accepted', 'duplicate']);
    expect(await p3).toEqual(['accepted']);
    expect(sizes).toEqual([4]);
    expect(b.pending).toBe(0);
  });

  it('splits at maxBatch events and bounds round trips in flight', async () => {
    const f = fakeBuffer();
    const b = createAppendBatcher(f.buffer, { maxBatch: 2, maxPending: 1000, timeoutMs: 1000, maxInFlight: 2 });
    const all = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => b.submit([item(k)]));
    await tick();
    expect(f.calls).toHaveLength(2);
    f.answerAll();
    await tick();
    await tick();
    expect(f.calls).toHaveLength(3);
    f.answerAll();
    await Promise.all(all);
    expect(f.calls.map((c) => c.length)).toEqual([2, 2, 2]);
  });

  it('rejects at once beyond maxPending events instead of queueing without bound', async () => {
    const f = fakeBuffer();
    const b = createAppendBatcher(f.buffer, { maxBatch: 10, maxPending: 3, timeoutMs: 1000 });
    const ok = b.submit([item('a'), item('b'), item('c')]);
    await expect(b.submit([item('d')])).rejects.toMatchObject({ name: 'OverloadedError' });
    await tick();
    f.answerAll();
    await ok;
    await tick();
    const again = b.submit([item('d')]);
    await tick();
    f.answerAll();
    expect(await again).toEqual(['accepted']);
  });

  it('rejects at once while the buffer is not connected', async () => {
    const f = fakeBuffer();
    f.buffer.available = false;
    const b = createAppendBatcher(f.buffer, { maxBatch: 10, maxPending: 10, timeoutMs: 1000 });
    await expect(b.submit([item('a')])).rejects.toBeInstanceOf(BufferUnavailableError);
    expect(f.calls).toHaveLength(0);
  });

  it('answers within the timeout when the buffer hangs, and frees capacity when it finally answers', async () => {
    const f = fakeBuffer();
    const b = createAppendBatcher(f.buffer, { maxBatch: 10, maxPending: 10, timeoutMs: 50 });
    const started = Date.now();
    const timedOut = expect(b.submit([item('a')])).rejects.toThrow('timed out');
    await vi.advanceTimersByTimeAsync(50);
    await timedOut;
    expect(Date.now() - started).toBeLessThan(500);
    expect(b.pending).toBe(1); // the round trip is still out
    f.answerAll();
    await tick();
    expect(b.pending).toBe(0);
  });

  it('passes a failed round trip to every request of the batch', async () => {
    const f = fakeBuffer();
    const b = createAppendBatcher(f.buffer, { maxBatch: 10, maxPending: 10, timeoutMs: 1000 });
    const p1 = b.submit([item('a')]);
    const p2 = b.submit([item('b')]);
    await tick();
    for (const w of f.waiting.splice(0)) w.reject(new BufferUnavailableError('redis down'));
    await expect(p1).rejects.toThrow('redis down');
    await expect(p2).rejects.toThrow('redis down');
  });

  it('drain waits for what is queued and refuses new work', async () => {
    const f = fakeBuffer();
    const b = createAppendBatcher(f.buffer, { maxBatch: 10, maxPending: 10, timeoutMs: 1000 });
    const p = b.submit([item('a')]);
    const drained = b.drain();
    await expect(b.submit([item('b')])).rejects.toThrow('shutting down');
    await tick();
    f.answerAll();
    await drained;
    expect(await p).toEqual(['accepted']);
  });
});
