/**
 * Dead-lettering and `payflux dlq replay`: an entry leaves the stream's pending list only once
 * it is in the DLQ, and leaves the DLQ only once it is in the stream again; either run twice
 * (a retry, or ioredis re-sending it after REDIS_SOCKET_TIMEOUT_MS) does nothing twice.
 */
import { describe, expect, it } from 'vitest';
import { DLQ_REPLAY_SCRIPT } from '../../../src/buffer/lua.js';
import { runScript } from '../../../src/buffer/redis-script.js';
import { appendEach, testBuffer } from '../../support/buffer.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

/** The fields of a dead letter of `data`, as the consumer records one. */
const deadLetter = (data: string, reason = 'decode_error') =>
  ['data', data, 'original_id', '1-1', 'reason', reason, 'timestamp', 'now'] as const;

describe('dlq replay', () => {
  it('moves every entry back into the stream, in order, and empties the DLQ', async () => {
    const { buffer: b, stream, prefix } = await testBuffer(suite);
    for (const data of ['{"n":1}', '{"n":2}', 'garbage'])
      await suite.redis.xadd(`${prefix}dlq`, '*', ...deadLetter(data));
    expect(await b.dlqReplay(10)).toBe(3);
    expect((await suite.redis.xrange(stream, '-', '+')).map(([, f]) => f)).toEqual([
      ['e', '{"n":1}'],
      ['e', '{"n":2}'],
      ['e', 'garbage'],
    ]);
    expect(await suite.redis.xlen(`${prefix}dlq`)).toBe(0);
  });

  it('keeps an entry in the DLQ when putting it back fails', async () => {
    const { buffer: b, stream, prefix } = await testBuffer(suite);
    await suite.redis.xadd(`${prefix}dlq`, '*', ...deadLetter('{"n":1}', 'max_deliveries'));
    // The stream key holds a string for a moment: the XADD fails inside Redis.
    await suite.redis.rename(stream, `${stream}:aside`);
    await suite.redis.set(stream, 'not a stream');
    await expect(b.dlqReplay(10)).rejects.toThrow(/WRONGTYPE/);
    expect(await suite.redis.xlen(`${prefix}dlq`)).toBe(1);

    await suite.redis.del(stream);
    await suite.redis.rename(`${stream}:aside`, stream);
    expect(await b.dlqReplay(10)).toBe(1);
    expect(await suite.redis.xlen(`${prefix}dlq`)).toBe(0);
  });

  it('replays more dead letters than one script call takes, every one of them once', async () => {
    const { buffer: b, stream, prefix } = await testBuffer(suite);
    const tx = suite.redis.multi();
    for (let n = 0; n < 2500; n++) tx.xadd(`${prefix}dlq`, '*', ...deadLetter(`{"n":${n}}`));
    await tx.exec();
    expect(await b.dlqReplay(10_000)).toBe(2500);
    const back = (await suite.redis.xrange(stream, '-', '+')).map(([, f]) => f[1]);
    expect(back).toEqual(Array.from({ length: 2500 }, (_, n) => `{"n":${n}}`));
    expect(await suite.redis.xlen(`${prefix}dlq`)).toBe(0);
  });

  it('purges what is there, and a second purge finds nothing', async () => {
    const { buffer: b, prefix } = await testBuffer(suite);
    for (let n = 0; n < 3; n++) await suite.redis.xadd(`${prefix}dlq`, '*', ...deadLetter('x'));
    expect(await b.dlqPurge()).toBe(3);
    expect(await b.dlqPurge()).toBe(0);
    expect(await suite.redis.xlen(`${prefix}dlq`)).toBe(0);
  });

  it('moves nothing twice when the same replay runs again', async () => {
    const { stream, prefix } = await testBuffer(suite);
    const id = await suite.redis.xadd(`${prefix}dlq`, '*', ...deadLetter('{"n":1}'));
    for (let run = 0; run < 2; run++)
      await runScript(suite.redis, DLQ_REPLAY_SCRIPT, [stream, `${prefix}dlq`], [id ?? '', '{"n":1}']);
    expect(await suite.redis.xlen(stream)).toBe(1);
    expect(await suite.redis.xlen(`${prefix}dlq`)).toBe(0);
  });
});

describe('dead-lettering', () => {
  it('records each pending entry once and acknowledges it, also when run twice', async () => {
    const { buffer: b, stream, prefix } = await testBuffer(suite);
    await appendEach(b, [
      { dedupKey: 'k1', payload: 'garbage' },
      { dedupKey: 'k2', payload: '{"n":2}' },
    ]);
    const r = await b.openReader('c');
    const [first] = await r.read(10, 10);
    const items = [{ id: first?.id ?? '', entryId: first?.id ?? '', data: 'garbage', reason: 'decode_error' as const }];
    await r.deadLetter(items);
    await r.deadLetter(items);
    const dlq = await suite.redis.xrange(`${prefix}dlq`, '-', '+');
    expect(dlq.map(([, f]) => [f[1], f[3], f[5]])).toEqual([['garbage', first?.id, 'decode_error']]);
    // The other entry of the batch is still pending: only what was dead-lettered was acked.
    expect((await suite.redis.xpending(stream, 'g'))[0]).toBe(1);
  });

  it('leaves an entry pending when it cannot be recorded', async () => {
    const { buffer: b, stream, prefix } = await testBuffer(suite);
    await b.append([{ dedupKey: 'k1', payload: 'garbage' }]);
    const r = await b.openReader('c');
    const [entry] = await r.read(10, 10);
    await suite.redis.set(`${prefix}dlq`, 'not a stream');
    await expect(
      r.deadLetter([{ id: entry?.id ?? '', entryId: entry?.id ?? '', data: 'garbage', reason: 'decode_error' }]),
    ).rejects.toThrow(/WRONGTYPE/);
    expect((await suite.redis.xpending(stream, 'g'))[0]).toBe(1);
  });
});
