/**
 * The largest batches the configuration allows (PAYFLUX_APPEND_MAX_BATCH and PAYFLUX_READ_COUNT
 * go up to 100,000) go through in one Redis command each. The append of 100,000 events (200,002
 * arguments) overflowed V8's stack when spread into a call (at ~125k arguments); it is what the
 * first test guards. Reading, acknowledging and dead-lettering that many (~100k arguments) did
 * not overflow: those parts check that the paths work at the maximum.
 */
import { describe, expect, it } from 'vitest';
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
    expect(await suite.redis.xlen(stream)).toBe(MAX);

    const r = await b.openReader('c');
    const got = await r.read(MAX, 10);
    expect(got).toHaveLength(MAX);
    await r.ack(got.map((e) => e.id));
    expect(await b.stats()).toMatchObject({ length: MAX, pending: 0, lag: 0 });
  }, 60_000);

  it('dead-letters 100,000 entries in one transaction', async () => {
    const { buffer: b, stream, prefix } = await testBuffer(suite);
    await b.append(items(MAX, 'dead'));
    const r = await b.openReader('c');
    const got = await r.read(MAX, 10);
    await r.deadLetter(got.map((e) => ({ id: e.id, entryId: e.id, data: e.payload, reason: 'decode_error' })));
    expect(await suite.redis.xlen(`${prefix}dlq`)).toBe(MAX);
    expect((await suite.redis.xpending(stream, 'g'))[0]).toBe(0);
  }, 60_000);
});
