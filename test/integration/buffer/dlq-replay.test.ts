/**
 * `payflux dlq replay` moves dead letters back into the stream entry by entry: an entry leaves
 * the DLQ only once it is in the stream again.
 */
import { describe, expect, it } from 'vitest';
import { redisSuite, testBuffer } from '../../support/buffer.js';

const suite = redisSuite();

describe('dlq replay', () => {
  it('moves every entry back into the stream, in order, and empties the DLQ', async () => {
    const { buffer: b, stream, prefix } = await testBuffer(suite.server);
    for (const data of ['{"n":1}', '{"n":2}', 'garbage']) await suite.redis.xadd(`${prefix}dlq`, '*', 'data', data, 'original_id', '1-1', 'reason', 'decode_error', 'timestamp', 'now');
    expect(await b.dlqReplay(10)).toBe(3);
    expect((await suite.redis.xrange(stream, '-', '+')).map(([, f]) => f)).toEqual([['e', '{"n":1}'], ['e', '{"n":2}'], ['e', 'garbage']]);
    expect(await suite.redis.xlen(`${prefix}dlq`)).toBe(0);
    await b.close();
  });

  it('keeps an entry in the DLQ when putting it back fails', async () => {
    const { buffer: b, stream, prefix } = await testBuffer(suite.server);
    await suite.redis.xadd(`${prefix}dlq`, '*', 'data', '{"n":1}', 'original_id', '1-1', 'reason', 'max_deliveries', 'timestamp', 'now');
    // The stream key holds a string for a moment: the XADD fails inside Redis.
    await suite.redis.rename(stream, `${stream}:aside`);
    await suite.redis.set(stream, 'not a stream');
    await expect(b.dlqReplay(10)).rejects.toThrow(/WRONGTYPE/);
    expect(await suite.redis.xlen(`${prefix}dlq`)).toBe(1);

    await suite.redis.del(stream);
    await suite.redis.rename(`${stream}:aside`, stream);
    expect(await b.dlqReplay(10)).toBe(1);
    expect(await suite.redis.xlen(`${prefix}dlq`)).toBe(0);
    await b.close();
  });
});
