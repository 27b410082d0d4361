import { describe, expect, it } from 'vitest';
import { createInflight } from '../../../src/risk-api/inflight.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('createInflight', () => {
  it('runs concurrent calls for one key once; followers share the result', async () => {
    const inflight = createInflight<number>(10);
    const d = deferred<number>();
    let runs = 0;
    const fn = () => {
      runs += 1;
      return d.promise;
    };
    const calls = Array.from({ length: 5 }, () => inflight.run('k', fn));
    expect(calls.map((c) => c?.joined)).toEqual([false, true, true, true, true]);
    expect(inflight.size).toBe(1);
    d.resolve(42);
    expect(await Promise.all(calls.map((c) => c!.promise))).toEqual([42, 42, 42, 42, 42]);
    expect(runs).toBe(1);
    expect(inflight.size).toBe(0);
  });

  it('shares a failure with every follower and then forgets the key', async () => {
    const inflight = createInflight<number>(10);
    const d = deferred<number>();
    const a = inflight.run('k', () => d.promise);
    const b = inflight.run('k', () => Promise.resolve(1));
    d.reject(new Error('boom'));
    await expect(a?.promise).rejects.toThrow('boom');
    await expect(b?.promise).rejects.toThrow('boom');
    expect(await inflight.run('k', () => Promise.resolve(7))?.promise).toBe(7);
  });

  it('cleans up after a synchronous throw in the run', async () => {
    const inflight = createInflight<number>(10);
    const r = inflight.run('k', () => {
      throw new Error('sync');
    });
    await expect(r?.promise).rejects.toThrow('sync');
    expect(inflight.size).toBe(0);
  });

  it('refuses a new key when max distinct runs are in flight, but still lets followers join', async () => {
    const inflight = createInflight<number>(2);
    const d = deferred<number>();
    inflight.run('a', () => d.promise);
    inflight.run('b', () => d.promise);
    expect(inflight.run('c', () => d.promise)).toBeNull();
    expect(inflight.run('a', () => d.promise)?.joined).toBe(true);
    d.resolve(0);
  });
});
