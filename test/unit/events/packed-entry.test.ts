import { describe, expect, it } from 'vitest';
import { entryIdOf, isPacked, packEvents, packedEventId, unpackEntry } from '../../../src/events/packed-entry.js';

const a = '{"event_id":"a","n":1}';
const b = '{"event_id":"b","s":"x\\ny"}';

describe('packed entries', () => {
  it('joins events with newlines and splits them back in order', () => {
    expect(packEvents([a, b])).toBe(`${a}\n${b}`);
    expect(unpackEntry(packEvents([a, b, a]))).toEqual([a, b, a]);
  });

  it('stores one event as its own text, and reads an unpacked entry as one event', () => {
    expect(packEvents([a])).toBe(a);
    expect(unpackEntry(a)).toEqual([a]);
    expect(isPacked(a)).toBe(false);
  });

  it('keeps an event written as indented JSON by another producer whole', () => {
    const indented = JSON.stringify({ event_id: 'a', nested: { x: [1, { y: 2 }] } }, null, 2);
    expect(isPacked(indented)).toBe(false);
    expect(unpackEntry(indented)).toEqual([indented]);
  });

  it('addresses an event as <entry-id>/<index> when its entry carries several, as the entry id alone otherwise', () => {
    expect(packedEventId('1700000000000-4', 2, 3)).toBe('1700000000000-4/2');
    expect(packedEventId('1700000000000-4', 0, 1)).toBe('1700000000000-4');
    expect(entryIdOf('1700000000000-4/2')).toBe('1700000000000-4');
    expect(entryIdOf('1700000000000-4')).toBe('1700000000000-4');
  });
});
