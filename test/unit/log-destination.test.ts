import { describe, expect, it } from 'vitest';
import { createLogDestination, type LogIo } from '../../src/log-destination.js';

type Outcome = number | 'EAGAIN' | 'EPIPE';

/** An fd whose writes answer as `script` says (then take everything), on a clock the test moves. */
function fakeIo(script: Outcome[] = []) {
  const written: string[] = [];
  const pending: (() => void)[] = [];
  const timers: (() => void)[] = [];
  let clock = 0;
  let syncCalls = 0;
  const answer = (chunk: Buffer): number => {
    const next = script.shift();
    if (next === 'EAGAIN' || next === 'EPIPE') throw Object.assign(new Error(next), { code: next });
    const n = Math.min(next ?? chunk.length, chunk.length);
    written.push(chunk.subarray(0, n).toString());
    return n;
  };
  const io: LogIo = {
    write(_fd, chunk, done) {
      pending.push(() => {
        try {
          done(null, answer(chunk));
        } catch (err) {
          done(err as NodeJS.ErrnoException, 0);
        }
      });
    },
    writeSync(_fd, chunk) {
      syncCalls++;
      return answer(chunk);
    },
    sleep: (ms) => void (clock += ms),
    now: () => clock,
    setTimeout: (fn) => void timers.push(fn),
  };
  return {
    io,
    written,
    /** Complete the write in flight; fire due retry timers first when asked. */
    step(): void {
      pending.shift()?.();
    },
    fireTimers(): void {
      for (const t of timers.splice(0)) t();
    },
    get syncCalls() {
      return syncCalls;
    },
  };
}

describe('createLogDestination', () => {
  it('writes one chunk at a time, queued lines together, and calls flush back once all are written', () => {
    const f = fakeIo();
    const d = createLogDestination(2, { io: f.io });
    let flushed = false;
    d.write('a\n');
    d.write('b\n');
    d.write('c\n');
    d.flush(() => (flushed = true));
    f.step();
    expect(flushed).toBe(false);
    f.step();
    expect(f.written).toEqual(['a\n', 'b\nc\n']);
    expect(flushed).toBe(true);
  });

  it('finishes a short write before the next chunk', () => {
    const f = fakeIo([1]);
    const d = createLogDestination(2, { io: f.io });
    d.write('ab\n');
    f.step();
    f.step();
    expect(f.written.join('')).toBe('ab\n');
  });

  it('tries a write again after EAGAIN (a full pipe), keeping the line', () => {
    const f = fakeIo(['EAGAIN']);
    const d = createLogDestination(2, { io: f.io });
    d.write('x\n');
    f.step();
    expect(f.written).toEqual([]);
    f.fireTimers();
    f.step();
    expect(f.written).toEqual(['x\n']);
  });

  it('stops for good on EPIPE (the reader went away): later lines are dropped, flush calls back', () => {
    const f = fakeIo(['EPIPE']);
    const d = createLogDestination(2, { io: f.io });
    d.write('x\n');
    let flushed = false;
    d.flush(() => (flushed = true));
    f.step();
    expect(d.closed).toBe(true);
    expect(flushed).toBe(true);
    d.write('y\n');
    expect(d.dropped).toBe(1);
    d.flushSync();
    expect(f.syncCalls).toBe(0);
  });

  it('flushSync at exit gives up on EPIPE at once and on EAGAIN after exitFlushMs', () => {
    const broken = fakeIo(['EPIPE']);
    const d1 = createLogDestination(2, { io: broken.io });
    d1.write('in flight\n');
    d1.write('queued\n');
    d1.flushSync();
    expect(broken.syncCalls).toBe(1);

    const full = fakeIo(Array<Outcome>(1000).fill('EAGAIN'));
    const d2 = createLogDestination(2, { io: full.io, exitFlushMs: 200 });
    d2.write('in flight\n');
    d2.write('queued\n');
    d2.flushSync();
    // 10 ms apart for 200 ms, then it returns.
    expect(full.syncCalls).toBeGreaterThan(5);
    expect(full.syncCalls).toBeLessThanOrEqual(21);
    expect(d2.closed).toBe(true);
  });

  it('bounds what waits: lines beyond maxQueuedBytes are dropped and counted', () => {
    const f = fakeIo();
    const d = createLogDestination(2, { io: f.io, maxQueuedBytes: 12 });
    d.write('0123456789\n'); // in flight at once
    d.write('abcdef\n');
    d.write('ghijkl\n');
    expect(d.dropped).toBe(1);
    f.step();
    f.step();
    expect(f.written).toEqual(['0123456789\n', 'abcdef\n']);
  });
});
