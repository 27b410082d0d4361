/**
 * The watchdog on the blocking read (redis-reader.ts): a server that stops answering (SIGSTOP:
 * its sockets stay open, like a stalled server or a half-open TCP peer) must not stall the
 * consumer until the kernel gives up minutes later.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { StreamEntry } from '../../../src/buffer/buffer.js';
import { redisSuite, testBuffer } from '../../support/buffer.js';

const suite = redisSuite();

describe('read watchdog', () => {
  it('reconnects a read the server stopped answering and delivers what was appended meanwhile, once', async () => {
    const logs: { msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => logs.push(JSON.parse(line) as { msg: string }) });
    const { buffer: b, stream } = await testBuffer(suite.server, { logger, readWatchdogGraceMs: 300 });
    const server = suite.server;
    const reader = await b.openReader('c1');
    expect(await reader.read(10, 50)).toEqual([]);

    server.pause();
    const started = Date.now();
    const read = reader.read(10, 200);
    // Blocked for 200 ms + 300 ms grace, then the watchdog drops the connection, and again every
    // 500 ms while the server stays silent (the new connection hangs just the same).
    const reconnects = () => logs.filter((l) => l.msg === 'redis_read_watchdog_reconnect').length;
    await expect.poll(reconnects, { timeout: 3000, interval: 50 }).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect.poll(reconnects, { timeout: 3000, interval: 50 }).toBeGreaterThanOrEqual(2);
    server.resume();

    await suite.redis.xadd(stream, '*', 'e', '{"n":1}');
    // The read carries on over the new connection, or fails if the connection dropped again
    // before it was ready: the consumer (streamBatches) retries a failed read after a pause, and
    // so does this test. An entry served to a dropped connection comes back as this consumer's
    // own pending entry on a later read.
    const retried = (r: Promise<StreamEntry[]>): Promise<StreamEntry[] | undefined> =>
      r.catch(() => new Promise((ok) => setTimeout(() => ok(undefined), 50)));
    /** The next read that succeeds (the reconnects may still be settling). */
    const readOk = async (blockMs: number): Promise<StreamEntry[]> => {
      for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
        const r = await retried(reader.read(10, blockMs));
        if (r !== undefined) return r;
      }
      throw new Error('no read succeeded within 5 s of the server resuming');
    };
    const got: StreamEntry[] = [...((await retried(read)) ?? [])];
    for (const deadline = Date.now() + 5000; got.length === 0 && Date.now() < deadline;)
      got.push(...(await readOk(100)));
    expect(got.map((e) => e.payload)).toEqual(['{"n":1}']);
    await reader.ack(got.map((e) => e.id));
    expect(await readOk(50)).toEqual([]);
    await b.close();
  }, 15_000);
});
