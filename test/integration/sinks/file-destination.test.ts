/**
 * The file destination on real files. Writes go through the thread pool, so a slow reader of a
 * FIFO (PAYFLUX_EXPORT_FILE may name one for a shipper) never blocks the event loop that also
 * serves HTTP; regular files take the same path, since a synchronous write holds the event loop.
 */
import { describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { createFileDestination } from '../../../src/sinks/destinations.js';
import { useSuite } from '../../support/use-suite.js';

const suite = useSuite();
const logger = pino({ level: 'silent' });

describe('file destination', () => {
  it('appends each chunk to a regular file in order, and to a new file after reopen', async () => {
    const path = join(suite.scratch(), 'export.ndjson');
    const dest = await createFileDestination(path, logger);
    await dest.write(Buffer.from('{"n":1}\n'));
    await dest.write(Buffer.from('{"n":2}\n'));
    renameSync(path, `${path}.1`);
    await dest.reopen();
    await dest.write(Buffer.from('{"n":3}\n'));
    await dest.close();
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
    expect(readFileSync(path, 'utf8')).toBe('{"n":3}\n');
  });

  it('keeps the event loop running while a FIFO reader is slow to take a write', async () => {
    const dir = suite.scratch();
    const fifo = join(dir, 'export.fifo');
    const out = join(dir, 'received');
    execFileSync('mkfifo', [fifo]);
    // The reader opens the FIFO at once (so our open does not wait for it), then reads nothing
    // for a second: a write larger than the pipe's 64 KiB cannot complete before that.
    const reader = spawn('sh', ['-c', 'exec 3<"$0"; sleep 1; cat <&3 > "$1"', fifo, out], { stdio: 'ignore' });
    const exited = new Promise((resolve) => reader.on('exit', resolve));
    const dest = await createFileDestination(fifo, logger);
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    chunk[chunk.length - 1] = 0x0a;

    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const started = performance.now();
    await dest.write(chunk);
    const waitedMs = performance.now() - started;
    clearInterval(timer);
    await dest.close();
    await exited;

    expect(waitedMs).toBeGreaterThan(300);
    // A synchronous write would have held the loop for the whole wait: no tick at all.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(waitedMs / 20 / 3));
    expect(readFileSync(out).equals(chunk)).toBe(true);
  });
});
