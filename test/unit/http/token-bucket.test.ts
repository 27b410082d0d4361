import { describe, expect, it } from 'vitest';
import { createTokenBuckets } from '../../../src/http/token-bucket.js';

describe('token buckets', () => {
  it('allows a burst, then refills at rps', () => {
    const b = createTokenBuckets({ rps: 10, burst: 3, maxKeys: 10 });
    const t0 = 1_000_000;
    expect([1, 2, 3].map(() => b.take('k', t0).ok)).toEqual([true, true, true]);
    const denied = b.take('k', t0);
    expect(denied).toMatchObject({ ok: false, remaining: 0, retryAfterSec: 1 });
    expect(b.take('k', t0 + 99).ok).toBe(false);
    expect(b.take('k', t0 + 100).ok).toBe(true);
    expect(b.take('k', t0 + 100).ok).toBe(false);
  });

  it('keeps keys apart', () => {
    const b = createTokenBuckets({ rps: 1, burst: 1, maxKeys: 10 });
    expect(b.take('a', 0).ok).toBe(true);
    expect(b.take('a', 0).ok).toBe(false);
    expect(b.take('b', 0).ok).toBe(true);
  });

  it('never holds more than burst tokens after a long idle', () => {
    const b = createTokenBuckets({ rps: 100, burst: 2, maxKeys: 10 });
    b.take('k', 0);
    const after = [0, 1, 2].map(() => b.take('k', 3_600_000).ok);
    expect(after).toEqual([true, true, false]);
  });

  it('reports a Retry-After of whole seconds for slow rates', () => {
    const b = createTokenBuckets({ rps: 0.5, burst: 1, maxKeys: 10 });
    b.take('k', 0);
    expect(b.take('k', 0).retryAfterSec).toBe(2);
  });

  it('is bounded: evicts the least recently used key', () => {
    const b = createTokenBuckets({ rps: 1, burst: 1, maxKeys: 2 });
    b.take('a', 0);
    b.take('b', 0);
    b.take('a', 0); // a is now most recent
    b.take('c', 0); // evicts b
    expect(b.size).toBe(2);
    expect(b.take('b', 0).ok).toBe(true); // b starts again with a full bucket
    expect(b.take('c', 0).ok).toBe(false);
  });

  it('is disabled at rps 0 or burst 0', () => {
    expect(createTokenBuckets({ rps: 0, burst: 500, maxKeys: 10 }).enabled).toBe(false);
    expect(createTokenBuckets({ rps: 100, burst: 0, maxKeys: 10 }).enabled).toBe(false);
    expect(createTokenBuckets({ rps: 100, burst: 1, maxKeys: 10 }).enabled).toBe(true);
  });
});
