import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, resolveLimits } from '../../../src/risk-api/limits.js';

describe('resolveLimits', () => {
  it('defaults to the documented tiers and cache lifetimes', () => {
    const l = resolveLimits();
    expect(l.tiers).toEqual({
      ANONYMOUS: { perMinute: 1, capacity: 3 },
      FREE: { perMinute: 5, capacity: 10 },
      PRO: { perMinute: 60, capacity: 100 },
    });
    expect([l.cacheTtlSec, l.failureTtlSec, l.verdictTtlMs, l.maxRedirects]).toEqual([86_400, 3_600, 5_000, 5]);
    expect(Object.isFrozen(l)).toBe(true);
    expect(Object.isFrozen(l.tiers.FREE)).toBe(true);
  });

  it('merges overrides, per tier too', () => {
    const l = resolveLimits({ maxPages: 2, tiers: { FREE: { perMinute: 1, capacity: 1 } } });
    expect(l.maxPages).toBe(2);
    expect(l.tiers.FREE).toEqual({ perMinute: 1, capacity: 1 });
    expect(l.tiers.PRO).toEqual(DEFAULT_LIMITS.tiers.PRO);
  });

  it.each([
    { maxPages: 0 },
    { maxBytesPerPage: -1 },
    { scanBudgetMs: Number.NaN },
    { tiers: { PRO: { perMinute: 0, capacity: 5 } } },
  ])('rejects %j', (bad) => {
    expect(() => resolveLimits(bad)).toThrow(RangeError);
  });
});
