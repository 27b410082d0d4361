/**
 * The watchdog on the blocking read (redis-reader.ts): a server that stops answering (SIGSTOP:
 * its sockets stay open, like a stalled server or a half-open TCP peer) must not stall the
 * consumer until the kernel gives up minutes later.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { StreamEntry } from '../../../src/buffer/buffer.js';
import { testBuffer } from '../../support/buffer.js';
import { useRedis } from '../../support/use-redis.js';
import { defined, poll } from '../../support/poll.js';

const suite = useRedis();

describe('read watchdog', () => {
  it('reconnects a read the server stopped answering and delivers what was appended meanwhile, once', async () => {
    const logs: { msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => logs.push(JSON.parse(line) as { msg: string }) });
    const { buffer: b, stream } = await testBuffer(suite, { logger, readWatchdogGraceMs: 300 });
    const server = suite.server;
    // Should the test fail while the server is paused, the buffer's close must not wait on it.
    suite.defer(() => server.resume());
    const reader = await b.openReader('c1');
    expect(await reader.read(10, 50)).toEqual([]);

    server.pause();
    const started = Date.now();
    const read = reader.read(10, 200);
    // It may fail long before the test looks at it (a reconnect while it waits): handled below.
    void read.catch(() => undefined);
    // Blocked for 200 ms + 300 ms grace, then the watchdog drops the connection, and again every
    // 500 ms while the server stays silent (the new connection hangs just the same).
    const reconnects = () => logs.filter((l) => l.msg === 'redis_read_watchdog_reconnect').length;
    expect(await poll('a watchdog reconnect', reconnects, (n) => n >= 1, { timeoutMs: 3000 })).toBeGreaterThanOrEqual(
      1,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await poll('a second reconnect', reconnects, (n) => n >= 2, { timeoutMs: 3000 })).toBeGreaterThanOrEqual(2);
    server.resume();

    await suite.redis.xadd(stream, '*', 'e', '{"n":1}');
    // The read carries on over the new connection, or fails if the connection dropped again
    // before it was ready: the consumer (streamBatches) retries a failed read after a pause, and
    // so does this test. An entry served to a dropped connection comes back as this consumer's
    // own pending entry on a later read.
    /** The next read that succeeds (the reconnects may still be settling). */
    const readOk = (blockMs: number): Promise<StreamEntry[]> =>
      poll(
        'a read to succeed after the server resumed',
        () => reader.read(10, blockMs).catch(() => undefined),
        defined,
        {
          timeoutMs: 5000,
        },
      );
    const first = (await read.catch(() => undefined)) ?? [];
    const got =
      first.length > 0
        ? first
        : await poll(
            'the entry appended meanwhile',
            () => readOk(100),
            (entries) => entries.length > 0,
            {
              timeoutMs: 5000,
            },
          );
    expect(got.map((e) => e.payload)).toEqual(['{"n":1}']);
    await reader.ack(got.map((e) => e.id));
    expect(await readOk(50)).toEqual([]);
  }, 15_000);

  it('close() settles a read whose connection was dropped and cannot come back (its password refused)', async () => {
    const { buffer: b } = await testBuffer(suite);
    const reader = await b.openReader('c1');
    expect(await reader.read(10, 50)).toEqual([]);
    const read = reader.read(10, 10_000);
    void read.catch(() => undefined);

    // ioredis keeps the read to re-send it once a new connection is ready, which never comes.
    const password = 'a-new-password-0002';
    await suite.redis.config('SET', 'requirepass', password);
    suite.defer(() => suite.redis.config('SET', 'requirepass', ''));
    await suite.redis.auth(password);
    await suite.redis.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const started = Date.now();
    await reader.close();
    await expect(read).rejects.toThrow('the reader is closed');
    expect(Date.now() - started).toBeLessThan(1000);
  }, 15_000);
});
