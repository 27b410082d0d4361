import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { createLiveHub } from '../../../src/pilot/live-hub.js';

const log = pino({ level: 'silent' });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function hub(read: () => Promise<unknown>, maxSubscribers = 2) {
  const counts: number[] = [];
  const h = createLiveHub({
    read,
    intervalMs: 1000,
    heartbeatMs: 15_000,
    maxSubscribers,
    log,
    onCount: (n) => counts.push(n),
  });
  return { h, counts };
}

describe('createLiveHub', () => {
  it('reads only while someone listens, once per interval for everyone, and sends a state only when it changed', async () => {
    let state = { v: 1 };
    const read = vi.fn(async () => state);
    const { h, counts } = hub(read);
    await vi.advanceTimersByTimeAsync(5000);
    expect(read).not.toHaveBeenCalled();

    const a: string[] = [];
    const b: string[] = [];
    const offA = h.subscribe((f) => a.push(f));
    await vi.advanceTimersByTimeAsync(0);
    expect(a).toEqual(['event: state\ndata: {"v":1}\n\n']);
    // A second subscriber gets the latest frame at once, without a read of its own.
    const offB = h.subscribe((f) => b.push(f));
    expect(b).toEqual(a);
    expect(read).toHaveBeenCalledTimes(1);

    await vi.advanceTimersByTimeAsync(3000);
    expect(read).toHaveBeenCalledTimes(4);
    expect(a).toHaveLength(1);
    state = { v: 2 };
    await vi.advanceTimersByTimeAsync(1000);
    expect(a.at(-1)).toBe('event: state\ndata: {"v":2}\n\n');
    expect(b).toEqual(a);

    offA?.();
    offB?.();
    const calls = read.mock.calls.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(read).toHaveBeenCalledTimes(calls);
    expect(counts).toEqual([1, 2, 1, 0]);
  });

  it('sends the unchanged state again after the heartbeat interval', async () => {
    const { h } = hub(async () => ({ same: true }));
    const frames: string[] = [];
    h.subscribe((f) => frames.push(f));
    await vi.advanceTimersByTimeAsync(14_000);
    expect(frames).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2000);
    expect(frames).toHaveLength(2);
    h.close();
  });

  it('never reads twice at once, skips a failed read, and refuses subscribers beyond the bound', async () => {
    let inFlight = 0;
    let most = 0;
    let fail = true;
    const { h } = hub(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 2500));
      inFlight--;
      if (fail) throw new Error('redis down');
      return { ok: true };
    });
    const frames: string[] = [];
    expect(h.subscribe((f) => frames.push(f))).toBeDefined();
    expect(h.subscribe(() => undefined)).toBeDefined();
    expect(h.subscribe(() => undefined)).toBeUndefined();
    await vi.advanceTimersByTimeAsync(7000);
    expect(frames).toEqual([]);
    fail = false;
    await vi.advanceTimersByTimeAsync(7000);
    expect(frames).toEqual(['event: state\ndata: {"ok":true}\n\n']);
    expect(most).toBe(1);
    h.close();
    expect(h.subscribe(() => undefined)).toBeUndefined();
  });
});
