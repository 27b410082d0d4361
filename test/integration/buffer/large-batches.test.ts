/**
 * The largest batches the configuration allows (PAYFLUX_APPEND_MAX_BATCH and PAYFLUX_READ_COUNT
 * go up to 100,000) go through in one Redis command each. An append of 100,000 events (100,002
 * arguments, one packed entry) would overflow V8's stack if spread into a call (at ~125k
 * arguments) and Lua's `unpack` if handed to one Redis command (~8,000): it is what the first
 * test guards. Reading, acknowledging and dead-lettering 100,000 entries (~100k arguments) check
 * that those paths work at the maximum.
 */
import { describe, expect, it } from 'vitest';
import { unpackEntry } from '../../../src/events/packed-entry.js';
import { testBuffer } from '../../support/buffer.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();
const MAX = 100_000;
const items = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({ dedupKey: `${tag}${i}`, payload: `{"n":${i}}` }));

describe('batches at the configured maximum', () => {
  it('appends, reads and acknowledges 100,000 events in one round trip each', async () => {
    const { buffer: b, stream } = await testBuffer(suite);
    const outcomes = await b.append(items(MAX, 'big'));
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(MAX);
    expect(await suite.redis.xlen(stream)).toBe(1);
    // Every mark set: the same events again are all duplicates.
    expect((await b.append(items(MAX, 'big'))).filter((o) => o === 'duplicate')).toHaveLength(MAX);

    const r = await b.openReader('c');
    const got = await r.read(MAX, 10);
    expect(got).toHaveLength(1);
    expect(unpackEntry(got[0]?.payload ?? '')).toHaveLength(MAX);
    await r.ack(got.map((e) => e.id));
    expect(await b.stats()).toMatchObject({ length: MAX, pending: 0, lag: 0 });
  }, 60_000);

  it('dead-letters 100,000 entries in one transaction', async () => {
    const { buffer: b, stream, prefix } = await testBuffer(suite);
    const tx = suite.redis.pipeline();
    for (const it of items(MAX, 'dead')) tx.xadd(stream, '*', 'e', it.payload);
    await tx.exec();
    const r = await b.openReader('c');
    const got = await r.read(MAX, 10);
    await r.deadLetter(got.map((e) => ({ id: e.id, entryId: e.id, data: e.payload, reason: 'decode_error' })));
    expect(await suite.redis.xlen(`${prefix}dlq`)).toBe(MAX);
    expect((await suite.redis.xpending(stream, 'g'))[0]).toBe(0);
  }, 60_000);
});
