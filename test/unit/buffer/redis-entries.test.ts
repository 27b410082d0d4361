import { describe, expect, it } from 'vitest';
import { toStreamEntries } from '../../../src/buffer/redis-entries.js';

describe('toStreamEntries', () => {
  it('takes the payload from field e and the store time from the id', () => {
    expect(toStreamEntries([['1732442400123-7', ['e', '{"n":1}']]], 1)).toEqual([
      {
        id: '1732442400123-7',
        idMs: 1732442400123,
        idSeq: 7,
        payload: '{"n":1}',
        ingestedAtMs: 1732442400123,
        deliveries: 1,
      },
    ]);
  });

  it('honours the ingest time field t of entries written by older versions', () => {
    expect(toStreamEntries([['1732442400123-0', ['e', '{}', 't', '1732442400100']]], 2)[0]).toMatchObject({
      ingestedAtMs: 1732442400100,
      deliveries: 2,
    });
  });

  it('keeps entries without a payload (deleted while pending, another producer’s fields) so that they dead-letter', () => {
    expect(
      toStreamEntries(
        [
          ['5-0', null],
          ['6-0', ['data', 'x']],
        ],
        1,
      ).map((e) => [e.id, e.payload]),
    ).toEqual([
      ['5-0', undefined],
      ['6-0', undefined],
    ]);
  });

  it('decodes Buffer replies to the same text, ASCII or not, and finds the fields without decoding them', () => {
    const payloads = ['{"geo_bucket":"US"}', '{"merchant":"Café Zürich ☕ 🚀"}', ''];
    for (const p of payloads) {
      const asText = toStreamEntries([['1732442400123-7', ['e', p, 't', '1732442400100']]], 1);
      const asBuffers = toStreamEntries(
        [
          [
            Buffer.from('1732442400123-7'),
            [Buffer.from('e'), Buffer.from(p), Buffer.from('t'), Buffer.from('1732442400100')],
          ],
        ],
        1,
      );
      expect(asBuffers).toEqual(asText);
      expect(asBuffers[0]?.payload).toBe(p);
    }
    // A field that only starts with e is not e.
    expect(
      toStreamEntries([[Buffer.from('6-0'), [Buffer.from('ex'), Buffer.from('x')]]], 1)[0]?.payload,
    ).toBeUndefined();
  });
});
