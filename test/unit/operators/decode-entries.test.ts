import { concat, from, lastValueFrom, throwError, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { toPaymentEvent } from '../../../src/events/payment-event.js';
import { decodeEntries, type EncodedEntry } from '../../../src/operators/decode-entries.js';

const stored = (id: string) =>
  JSON.stringify(
    toPaymentEvent({
      event_id: id,
      event_type: 'payment_failed',
      event_timestamp: '2026-11-24T10:00:00Z',
      processor: 'stripe',
      retry_count: 1,
    }),
  );
const entry = (id: string, payload: string | undefined, deliveries = 1): EncodedEntry => ({
  id,
  payload,
  ingestedAtMs: 5,
  deliveries,
});

describe('decodeEntries', () => {
  it('decodes stored events in order, keeping their stored JSON for the export line', async () => {
    const [batch] = await lastValueFrom(
      from([[entry('1-0', stored('a')), entry('1-1', stored('b'))]]).pipe(
        decodeEntries({ maxDeliveries: 5 }),
        toArray(),
      ),
    );
    expect(batch?.entries.map((e) => e.event.event_id)).toEqual(['a', 'b']);
    expect(batch?.ackIds).toEqual(['1-0', '1-1']);
    // The id's numbers, read once here for the risk window's redelivery ring.
    expect(batch?.entries[1]).toMatchObject({ id: '1-1', idMs: 1, idSeq: 1 });
    expect(batch?.entries[0]?.eventTimeMs).toBe(Date.UTC(2026, 10, 24, 10));
    expect(`{${batch?.entries[0]?.eventJson ?? ''}}`).toBe(stored('a'));
  });

  it('decodes a stored event and the same event written by another producer (spaced, keys reordered) alike', async () => {
    const own = stored('a');
    const foreign = JSON.stringify(
      {
        processor: 'stripe',
        retry_count: 1,
        event_id: 'a',
        event_timestamp: '2026-11-24T10:00:00Z',
        event_type: 'payment_failed',
      },
      null,
      1,
    );
    const badTime = own.replace('2026-11-24T10:00:00Z', '2026-13-24T10:00:00Z');
    const [batch] = await lastValueFrom(
      from([[entry('1-0', own), entry('1-1', foreign), entry('1-2', badTime)]]).pipe(
        decodeEntries({ maxDeliveries: 5 }),
        toArray(),
      ),
    );
    expect(batch?.entries[1]?.event).toStrictEqual(batch?.entries[0]?.event);
    expect(batch?.entries[1]?.eventTimeMs).toBe(batch?.entries[0]?.eventTimeMs);
    // The foreign text is valid JSON of the same event but not spliceable as it is.
    expect(batch?.entries[1]?.eventJson).toBeUndefined();
    expect(batch?.dead.map((d) => [d.id, d.reason])).toEqual([['1-2', 'decode_error']]);
  });

  it('dead-letters undecodable entries and entries delivered too often, as values, and goes on', async () => {
    const [batch] = await lastValueFrom(
      from([
        [
          entry('1-0', '{not json'),
          entry('1-1', undefined),
          entry('1-2', '{"event_id":"x"}'),
          entry('1-3', stored('c'), 6),
          entry('1-4', stored('d')),
        ],
      ]).pipe(decodeEntries({ maxDeliveries: 5 }), toArray()),
    );
    expect(batch?.dead.map((d) => [d.id, d.reason])).toEqual([
      ['1-0', 'decode_error'],
      ['1-1', 'decode_error'],
      ['1-2', 'decode_error'],
      ['1-3', 'max_deliveries'],
    ]);
    expect(batch?.dead[0]?.data).toBe('{not json');
    expect(batch?.entries.map((e) => e.id)).toEqual(['1-4']);
    expect(batch?.ackIds).toEqual(['1-4']);
  });

  it('dead-letters entries with a value of the wrong type or a retry count out of range, which the stages could not take', async () => {
    const own = JSON.parse(stored('a')) as Record<string, unknown>;
    const bad = [
      { failure_category: 5 },
      { geo_bucket: {} },
      { merchant_id_hash: null },
      { retry_count: 1000 },
      { retry_count: 1.5 },
      { retry_count: '1' },
    ];
    // An unknown field (another producer's) is not a reason: it is ignored.
    const entries = [
      ...bad.map((b, i) => entry(`1-${i}`, JSON.stringify({ ...own, ...b }))),
      entry('2-0', JSON.stringify({ ...own, extra: 1 })),
    ];
    const [batch] = await lastValueFrom(from([entries]).pipe(decodeEntries({ maxDeliveries: 5 }), toArray()));
    expect(batch?.dead.map((d) => d.reason)).toEqual(bad.map(() => 'decode_error'));
    expect(batch?.entries.map((e) => e.id)).toEqual(['2-0']);
  });

  it('decodes each event of a packed entry as <entry-id>/<index>, dead-lettering a poison event alone', async () => {
    const poison = stored('b').replace('2026-11-24T10:00:00Z', 'soon');
    const packed = [stored('a'), poison, stored('c')].join('\n');
    const [batch] = await lastValueFrom(
      from([[entry('7-1', packed), entry('7-2', stored('d'))]]).pipe(decodeEntries({ maxDeliveries: 5 }), toArray()),
    );
    expect(batch?.entries.map((e) => [e.id, e.event.event_id, e.idMs, e.idSeq, e.idIndex])).toEqual([
      ['7-1/0', 'a', 7, 1, 0],
      ['7-1/2', 'c', 7, 1, 2],
      ['7-2', 'd', 7, 2, -1],
    ]);
    expect(`{${batch?.entries[1]?.eventJson ?? ''}}`).toBe(stored('c'));
    expect(batch?.dead).toEqual([{ id: '7-1/1', entryId: '7-1', data: poison, reason: 'decode_error' }]);
    expect(batch?.ackIds).toEqual(['7-1', '7-2']);
  });

  it('dead-letters every event of a packed entry delivered too often, each as its own record', async () => {
    const packed = [stored('a'), stored('b')].join('\n');
    const [batch] = await lastValueFrom(
      from([[entry('8-0', packed, 6)]]).pipe(decodeEntries({ maxDeliveries: 5 }), toArray()),
    );
    expect(batch?.entries).toEqual([]);
    expect(batch?.dead).toEqual([
      { id: '8-0/0', entryId: '8-0', data: stored('a'), reason: 'max_deliveries' },
      { id: '8-0/1', entryId: '8-0', data: stored('b'), reason: 'max_deliveries' },
    ]);
    // Acknowledged by the dead-letter script with its records, not before.
    expect(batch?.ackIds).toEqual([]);
  });

  it('emits one batch per input array and passes errors through', async () => {
    const boom = new Error('source failed');
    const seen: number[] = [];
    await expect(
      new Promise((resolve, reject) => {
        concat(
          from([[entry('1-0', stored('a'))], []]),
          throwError(() => boom),
        )
          .pipe(decodeEntries({ maxDeliveries: 5 }))
          .subscribe({ next: (b) => seen.push(b.entries.length), error: reject, complete: () => resolve(undefined) });
      }),
    ).rejects.toBe(boom);
    expect(seen).toEqual([1, 0]);
  });
});
