import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentIds, compareStreamIds } from '../../../src/operators/recent-ids.js';

describe('compareStreamIds', () => {
  it('orders stream ids by milliseconds, then sequence', () => {
    const ids = ['1700000000000-10', '999-0', '1700000000000-9', '1700000000001-0', '1700000000000-0'];
    expect([...ids].sort(compareStreamIds)).toEqual(['999-0', '1700000000000-0', '1700000000000-9', '1700000000000-10', '1700000000001-0']);
  });

  it('agrees with numeric order on any pair of stream ids', () => {
    const id = fc.tuple(fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 0, max: 100_000 }));
    fc.assert(
      fc.property(id, id, ([ma, sa], [mb, sb]) => {
        const expected = ma !== mb ? Math.sign(ma - mb) : Math.sign(sa - sb);
        expect(Math.sign(compareStreamIds(`${ma}-${sa}`, `${mb}-${sb}`))).toBe(expected);
      }),
    );
  });
});

describe('RecentIds', () => {
  it('recognises an id it counted and accepts every new one', () => {
    const ids = new RecentIds(10);
    expect(['5-0', '5-1', '6-0'].map((id) => ids.seen(id))).toEqual([false, false, false]);
    expect(ids.seen('5-1')).toBe(true);
    expect(ids.seen('4-0')).toBe(false); // older but never counted: a reclaim from elsewhere
    expect(ids.seen('4-0')).toBe(true);
  });

  it('forgets ids beyond its capacity and keeps its memory bounded', () => {
    const ids = new RecentIds(100);
    for (let i = 0; i < 1_000; i++) ids.seen(`${1_000 + i}-0`);
    expect(ids.seen('1950-0')).toBe(true);
    expect(ids.seen('1000-0')).toBe(false); // forgotten: counted again, the documented bound
    for (let i = 0; i < 1_000; i++) ids.seen(`${5_000 + i}-0`);
    expect(ids.size).toBe(100);
    expect(ids.indexSize).toBeLessThanOrEqual(100);
  });

  it('builds its lookup index only for older ids and drops it after a quiet stretch', () => {
    const ids = new RecentIds(50);
    for (let i = 0; i < 40; i++) ids.seen(`${100 + i}-0`);
    expect(ids.indexSize).toBe(0);
    ids.seen('120-0');
    expect(ids.indexSize).toBe(40);
    for (let i = 0; i < 51; i++) ids.seen(`${200 + i}-0`);
    expect(ids.indexSize).toBe(0);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new RecentIds(0)).toThrow(RangeError);
  });
});
