/**
 * Chaos, full run only (`npm run chaos`): a full disk, made with a small tmpfs, which needs
 * root; without root the scenario prints why it did not run and records that in the table.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExportLine, readExportFile } from '../support/export-lines.js';
import { payfluxEnv } from '../support/payflux-env.js';
import { startPayflux } from '../support/payflux-process.js';
import { deadLettered, untilDrained } from '../support/probes.js';
import { poll } from '../support/poll.js';
import { useRedis } from '../support/use-redis.js';
import { record, recordLoad, rssSampler, startLoad, tally } from './chaos.js';

const suite = useRedis({ appendonly: true });
/**
 * The file's event ids, and how many lines are fragments: a write cut short by ENOSPC leaves a
 * partial line, which the file destination ends with a newline before the next write (one bad
 * line of its own; the event is written again whole).
 */
function readExport(path: string): { ids: string[]; torn: number } {
  const ids: string[] = [];
  let torn = 0;
  for (const l of readExportFile(path)) {
    try {
      ids.push(parseExportLine(l).event_id);
    } catch {
      torn++;
    }
  }
  return { ids, torn };
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('chaos: disk', { timeout: 300_000 }, () => {
  it('a full disk (a small tmpfs) under load, restarted meanwhile: nothing acknowledged is lost, nothing dead-lettered', async () => {
    const root = process.getuid?.() === 0;
    if (!root) {
      console.log('chaos: full disk skipped: mounting a tmpfs needs root');
      record({
        scenario: 'full disk (tmpfs)',
        sent: 0,
        acked: 0,
        exported: 0,
        lost: 0,
        duplicated: 0,
        fivexx: 0,
        peakRssMb: 0,
        recoverSec: null,
        note: 'skipped: mounting a tmpfs needs root',
      });
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'payflux-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir]);
    suite.defer(() => {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    });
    const file = join(dir, 'export.ndjson');
    const env = await payfluxEnv(suite, {
      PAYFLUX_EXPORT_MODE: 'file',
      PAYFLUX_EXPORT_FILE: file,
      PAYFLUX_MAX_DELIVERIES: '2',
      PAYFLUX_CONSUMER_NAME: 'chaos-disk',
    });
    const pf = await startPayflux(suite, env);
    const rss = rssSampler(() => pf.pid);
    const load = startLoad(() => pf.url, { rps: 500, tag: `disk${Date.now()}` });
    await sleep(2000);
    // Fill what is left of the disk.
    const filler = join(dir, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(96 * 1024 * 1024));
    } catch {
      // ENOSPC: it is full now.
    }
    await poll(
      '/export/health 503',
      () => fetch(`${pf.url}/export/health`).then((x) => x.status),
      (st) => st === 503,
      { timeoutMs: 60_000 },
    );
    for (let i = 0; i < 3; i++) {
      pf.signal('SIGKILL');
      await pf.exited();
      await pf.restart();
      await sleep(1500);
    }
    rmSync(filler, { force: true });
    const freed = Date.now();
    await load.stop();
    await untilDrained(suite.redis, env, { what: 'the backlog drained', timeoutMs: 60_000 });
    const recover = (Date.now() - freed) / 1000;
    rss.stop();
    const out = readExport(file);
    const t = tally(load.acked, out.ids);
    const dlq = await deadLettered(suite.redis, env);
    recordLoad(
      'full disk (tmpfs)',
      load,
      rss,
      t,
      recover,
      `64 MiB tmpfs filled under load, 3 restarts while full; dead-lettered ${dlq}; ${out.torn} torn fragment lines`,
    );
    expect(t.lost).toBe(0);
    expect(dlq).toBe(0);
  });
});
