import { describe, expect, it } from 'vitest';
import type { ProbationMarks, StreamEntry } from '../../../src/buffer/buffer.js';
import { PROBATION_STRIKES, readUnits, type ReadUnit } from '../../../src/pipeline/poison-policy.js';

const entry = (id: string, deliveries: number): StreamEntry => ({ id, payload: '{}', ingestedAtMs: 0, deliveries });

/** Marks in a Map of strikes (our own interface), with a log of what was asked, in order. */
function fakeMarks(
  initial: Record<string, number> = {},
): ProbationMarks & { readonly set: Map<string, number>; readonly log: string[] } {
  const set = new Map(Object.entries(initial));
  const log: string[] = [];
  return {
    set,
    log,
    strikes: (ids) => Promise.resolve(new Map(ids.filter((id) => set.has(id)).map((id) => [id, set.get(id) ?? 0]))),
    mark: (id, strikes) => {
      log.push(`mark ${id} ${strikes}`);
      set.set(id, strikes);
      return Promise.resolve();
    },
    clear: (id) => {
      set.delete(id);
      return Promise.resolve();
    },
  };
}

const summary = (u: ReadUnit) => ({
  entries: u.entries.map((e) => e.id),
  poisoned: u.poisoned.map((e) => e.id),
  probation: u.probation,
  last: u.last,
});

async function all(entries: StreamEntry[], marks: ProbationMarks): Promise<ReturnType<typeof summary>[]> {
  const out = [];
  for await (const u of readUnits(entries, 5, marks)) out.push(summary(u));
  return out;
}

describe('readUnits', () => {
  it('passes a read with no entry over the bound through as one last unit, marking nothing', async () => {
    const marks = fakeMarks();
    expect(await all([entry('1-1', 1), entry('1-2', 5)], marks)).toEqual([
      { entries: ['1-1', '1-2'], poisoned: [], probation: undefined, last: true },
    ]);
    expect(await all([], marks)).toEqual([{ entries: [], poisoned: [], probation: undefined, last: true }]);
    expect(marks.log).toEqual([]);
  });

  it('puts each suspect delivered more than the bound in a unit of its own, marked just before it is yielded', async () => {
    const marks = fakeMarks();
    const seen: string[] = [];
    for await (const u of readUnits([entry('1-1', 1), entry('1-2', 6), entry('1-3', 40)], 5, marks)) {
      // The next suspect is not marked while this unit is being processed.
      seen.push(`${u.entries.map((e) => e.id).join(',')} marks=${[...marks.set.keys()].join(',')}`);
    }
    expect(seen).toEqual(['1-1 marks=', '1-2 marks=1-2', '1-3 marks=1-2,1-3']);
    expect(marks.log).toEqual(['mark 1-2 1', 'mark 1-3 1']);
    expect(await all([entry('1-4', 6)], fakeMarks())).toEqual([
      { entries: ['1-4'], poisoned: [], probation: '1-4', last: true },
    ]);
  });

  it('makes a suspect on which enough earlier runs ended a poisoned entry (a dead letter), in the first unit', async () => {
    const marks = fakeMarks({ '1-2': PROBATION_STRIKES });
    expect(await all([entry('1-1', 2), entry('1-2', 7), entry('1-3', 7)], marks)).toEqual([
      { entries: ['1-1'], poisoned: ['1-2'], probation: undefined, last: false },
      { entries: ['1-3'], poisoned: [], probation: '1-3', last: true },
    ]);
    expect(await all([entry('1-2', 8)], fakeMarks({ '1-2': PROBATION_STRIKES }))).toEqual([
      { entries: [], poisoned: ['1-2'], probation: undefined, last: true },
    ]);
  });

  it('gives a suspect with fewer strikes another run alone, one strike more: one kill in the wrong millisecond is no proof', async () => {
    const marks = fakeMarks({ '1-2': PROBATION_STRIKES - 1 });
    expect(await all([entry('1-2', 9)], marks)).toEqual([
      { entries: ['1-2'], poisoned: [], probation: '1-2', last: true },
    ]);
    expect(marks.log).toEqual([`mark 1-2 ${PROBATION_STRIKES}`]);
    // Killed again before the mark was cleared: now it is a dead letter.
    expect(await all([entry('1-2', 10)], marks)).toEqual([
      { entries: [], poisoned: ['1-2'], probation: undefined, last: true },
    ]);
  });
});
