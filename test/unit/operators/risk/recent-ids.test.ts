import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentIds } from '../../../../src/operators/risk/recent-ids.js';
import { compareStreamIds, streamIdMs, streamIdSeq } from '../../../../src/stream-id.js';

/** `ids.seen` of `id`, with the numbers decode would hand over when given. */
const seen = (ids: RecentIds, id: string, idMs?: number, idSeq?: number, idIndex?: number): boolean =>
  ids.seen({ id, idMs, idSeq, idIndex });

describe('compareStreamIds', () => {
  it('orders stream ids by milliseconds, then sequence', () => {
    const ids = ['1700000000000-10', '999-0', '1700000000000-9', '1700000000001-0', '1700000000000-0'];
    expect([...ids].sort(compareStreamIds)).toEqual([
      '999-0',
      '1700000000000-0',
      '1700000000000-9',
      '1700000000000-10',
      '1700000000001-0',
    ]);
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

describe('compareStreamIds on events of packed entries', () => {
  it('orders by entry id, then by index, the entry id alone first', () => {
    const ids = ['5-10/0', '5-9/12', '5-9/2', '5-9', '4-0/100', '5-10'];
    expect([...ids].sort(compareStreamIds)).toEqual(['4-0/100', '5-9', '5-9/2', '5-9/12', '5-10', '5-10/0']);
  });
});

describe('streamIdMs and streamIdSeq', () => {
  it.each([
    ['1700000000000-12', 1_700_000_000_000, 12],
    ['0-0', 0, 0],
    ['999999999999999-999999999999999', 999_999_999_999_999, 999_999_999_999_999],
    ['01-1', -1, 1],
    ['1-01', 1, -1],
    ['1234567890123456-0', -1, 0],
    ['1-2-3', 1, -1],
    ['a-1', -1, 1],
    ['-5', -1, 5],
    ['7', -1, -1],
  ])('%s → %d, %d (-1 unless canonical digits)', (id, ms, seq) => {
    const dash = id.indexOf('-');
    expect([streamIdMs(id, dash), streamIdSeq(id, dash)]).toEqual([ms, seq]);
  });
});

describe('RecentIds', () => {
  it('recognises an id it counted and accepts every new one', () => {
    const ids = new RecentIds(10);
    expect(['5-0', '5-1', '6-0'].map((id) => seen(ids, id))).toEqual([false, false, false]);
    expect(seen(ids, '5-1')).toBe(true);
    expect(seen(ids, '4-0')).toBe(false); // older but never counted: a reclaim from elsewhere
    expect(seen(ids, '4-0')).toBe(true);
  });

  it('tells the events of a packed entry apart and recognises each one redelivered, with or without its numbers', () => {
    const ids = new RecentIds(10);
    expect(seen(ids, '5-9/12', 5, 9, 12)).toBe(false);
    expect(seen(ids, '5-10/0', 5, 10, 0)).toBe(false);
    // 5-9/13 is older than 5-10/0 although it sorts after it as text: looked up, not known, counted.
    expect(seen(ids, '5-9/13')).toBe(false);
    expect(seen(ids, '5-9/12')).toBe(true);
    expect(seen(ids, '5-10/0', 5, 10, 0)).toBe(true);
    expect(seen(ids, '5-10')).toBe(false);
    expect(seen(ids, '5-10/1')).toBe(false);
    expect(ids.oddSize).toBe(0);
  });

  it('forgets ids beyond its capacity and keeps its memory bounded', () => {
    const ids = new RecentIds(100);
    for (let i = 0; i < 1_000; i++) seen(ids, `${1_000 + i}-0`);
    expect(seen(ids, '1950-0')).toBe(true);
    expect(seen(ids, '1000-0')).toBe(false); // forgotten: counted again, the documented bound
    for (let i = 0; i < 1_000; i++) seen(ids, `${5_000 + i}-0`);
    expect(ids.size).toBe(100);
    expect(ids.indexSize).toBeLessThanOrEqual(100);
  });

  it('builds its lookup index only for older ids and drops it after a quiet stretch', () => {
    const ids = new RecentIds(50);
    for (let i = 0; i < 40; i++) seen(ids, `${100 + i}-0`);
    expect(ids.indexSize).toBe(0);
    seen(ids, '120-0');
    expect(ids.indexSize).toBe(40);
    for (let i = 0; i < 51; i++) seen(ids, `${200 + i}-0`);
    expect(ids.indexSize).toBe(0);
  });

  it('answers as a plain list of the last `capacity` counted ids would, for ids of any shape, numbers given or not', () => {
    // Stream ids mostly ascending with redeliveries and reclaims mixed in, plus ids that are not
    // canonical `<ms>-<seq>` (leading zeros, 16+ digits, no dash, letters) and are kept as text.
    const streamId = fc
      .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3 }))
      .map(([ms, seq]) => `${1_700_000_000_000 + ms}-${seq}`);
    const oddId = fc.constantFrom('01-1', '1-01', '1234567890123456-0', '7', 'a-1', '5-', '-5', '1-2-3', '0-0');
    const id = fc.oneof({ weight: 5, arbitrary: streamId }, { weight: 1, arbitrary: oddId });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(id, fc.boolean()), { maxLength: 200 }),
        (capacity, sequence) => {
          const ids = new RecentIds(capacity);
          const counted: string[] = [];
          for (const [x, withNumbers] of sequence) {
            const expected = counted.slice(-capacity).includes(x);
            // Decode hands over the numbers it read (-1 for an id that is not canonical).
            const dash = x.indexOf('-');
            const ms = streamIdMs(x, dash);
            const seq = ms >= 0 ? streamIdSeq(x, dash) : -1;
            expect(withNumbers ? seen(ids, x, ms, seq) : seen(ids, x)).toBe(expected);
            if (!expected) counted.push(x);
          }
          expect(ids.size).toBe(Math.min(capacity, counted.length));
          expect(ids.oddSize).toBeLessThanOrEqual(capacity);
        },
      ),
    );
  });

  it("keeps no string for a stream id, and drops an odd id's text once its slot is reused", () => {
    const ids = new RecentIds(4);
    seen(ids, 'x');
    seen(ids, '9-1', 9, 1);
    expect(ids.oddSize).toBe(1);
    for (let i = 0; i < 3; i++) seen(ids, `${100 + i}-0`);
    expect(ids.oddSize).toBe(0);
    expect(seen(ids, 'x')).toBe(false); // forgotten with its slot
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new RecentIds(0)).toThrow(RangeError);
  });
});
