/**
 * A failing export destination: no ack, no stall, health says so, and everything is
 * exported once the destination recovers. Real process, real redis-server, real file errors
 * (tests run as root, so permissions cannot make a file unwritable: /dev/full gives ENOSPC on
 * every write, and a path under a regular file gives ENOTDIR on open).
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { idFactory } from '../../support/events.js';
import { expectEachOnce, exportFileIds, parseExportLine, readExportFile } from '../../support/export-lines.js';
import { payfluxEnv, streamOf } from '../../support/payflux-env.js';
import { startPayflux } from '../../support/payflux-process.js';
import { getJson, groupState, metric, streamEvents, untilDrained, untilStatus } from '../../support/probes.js';
import { sendEvents } from '../../support/producer.js';
import { poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

/** PayFlux exporting to a file on a full disk (/dev/full: ENOSPC on every write), and `count` events sent. */
async function exportingToFullDisk(count: number, vars: Record<string, string>) {
  const file = join(suite.scratch(), 'export.ndjson');
  symlinkSync('/dev/full', file);
  const env = await payfluxEnv(suite, { PAYFLUX_EXPORT_FILE: file, ...vars });
  const pf = await startPayflux(suite, env);
  const ids = await sendEvents(pf.url, count, idFactory());
  return { file, env, pf, ids };
}

/** A path under a regular file (ENOTDIR on open) that `fix()` makes a directory. */
function pathUnderAFile(name: string) {
  const parent = join(suite.scratch(), name);
  writeFileSync(parent, 'a regular file where a directory should be\n');
  const fix = (): void => {
    rmSync(parent);
    mkdirSync(parent);
  };
  return { file: join(parent, 'export.ndjson'), fix };
}

describe('export destination failing', { timeout: 30_000 }, () => {
  it('keeps a batch pending while the file export fails, reports it, and exports and acks everything once the file is writable', async () => {
    const { file, env, pf, ids } = await exportingToFullDisk(200, {
      PAYFLUX_EXPORT_MODE: 'both',
      PAYFLUX_EXPORT_STALE_SEC: '1',
    });

    // Delivered, not acknowledged: the batch in flight sits in the consumer's pending list, and
    // nothing more is read while it is stuck (one batch in flight: the rest stays undelivered).
    const held = await poll(
      'the batch delivered and held',
      () => groupState(suite.redis, env),
      (s) => s.pending > 0 && s.pending + s.lag === ids.length,
      { context: pf.stderrTail },
    );
    expect(Object.values(held.consumers)).toEqual([held.pending]);

    // Once failing for longer than PAYFLUX_EXPORT_STALE_SEC, health and readiness say so.
    const health = await untilStatus(`${pf.url}/export/health`, 503, { timeoutMs: 5000 });
    expect(health.body).toMatchObject({
      enabled: true,
      export_mode: 'both',
      healthy: false,
      destinations: { stdout: { healthy: true }, file: { healthy: false } },
    });
    expect(JSON.stringify(health.body)).toContain('ENOSPC');
    const ready = await getJson(`${pf.url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ ready: false, export: { healthy: false } });
    expect(
      await metric(pf.url, 'payflux_export_errors_total', { destination: 'file', reason: 'ENOSPC' }),
    ).toBeGreaterThanOrEqual(2);
    expect(pf.alive()).toBe(true);
    // The gauges (refreshed every 2 s) and /ready show the same backlog: pending vs undelivered.
    await poll(
      'pending and lag gauges',
      async () => [
        await metric(pf.url, 'payflux_pending_messages'),
        await metric(pf.url, 'payflux_consumer_lag_messages'),
        await metric(pf.url, 'payflux_stream_length'),
      ],
      (v) => v[0] === held.pending && v[1] === held.lag && v[2] === ids.length,
      { timeoutMs: 5000 },
    );
    expect((await getJson(`${pf.url}/ready`)).body).toMatchObject({
      pending: held.pending,
      lag: held.lag,
      stream_length: ids.length,
    });
    expect(await groupState(suite.redis, env)).toEqual(held);
    expect(pf.lines).toHaveLength(held.pending);

    // The path becomes writable: the retried batch lands in the file, then it is acked.
    unlinkSync(file);
    await untilDrained(suite.redis, env, { context: pf.stderrTail });
    expectEachOnce(exportFileIds(file), ids);
    // In `both` mode stdout succeeded on the first attempt; the retries did not repeat it.
    expectEachOnce(
      pf.exported().map((l) => l.event_id),
      ids,
    );
    const recovered = await untilStatus(`${pf.url}/export/health`, 200);
    expect(recovered.body).toMatchObject({
      healthy: true,
      destinations: { file: { healthy: true, failing_since: null, lines_written: ids.length } },
    });
    expect((await getJson(`${pf.url}/ready`)).status).toBe(200);
  });

  it('in before_export mode holds neither stdout nor the consumer: every event reaches stdout and is acked, what the file missed is counted', async () => {
    const { env, pf, ids } = await exportingToFullDisk(200, {
      PAYFLUX_EXPORT_MODE: 'both',
      PAYFLUX_ACK_MODE: 'before_export',
      PAYFLUX_EXPORT_STALE_SEC: '1',
      PAYFLUX_READ_COUNT: '50',
    });
    await untilDrained(suite.redis, env, { what: 'everything acknowledged', context: pf.stderrTail });
    await poll(
      'every event on stdout',
      () => pf.exported().length,
      (n) => n >= ids.length,
    );
    expectEachOnce(
      pf.exported().map((l) => l.event_id),
      ids,
    );
    // The file's failure is counted once its write has failed, which may be after stdout's lines.
    await poll(
      'what the file missed counted',
      () => metric(pf.url, 'payflux_export_dropped_events_total', { destination: 'file' }),
      (n) => n === ids.length,
    );
    expect(await metric(pf.url, 'payflux_export_dropped_events_total', { destination: 'stdout' })).toBe(0);
    // Health says the file is failing; readiness does not hold the node for it.
    const health = await untilStatus(`${pf.url}/export/health`, 503);
    expect(health.body).toMatchObject({ destinations: { stdout: { healthy: true }, file: { healthy: false } } });
    expect((await getJson(`${pf.url}/ready`)).status).toBe(200);
  });

  it('never trims entries that are pending or undelivered while the export is down, even far over PAYFLUX_STREAM_MAXLEN', async () => {
    const { file, env, pf, ids } = await exportingToFullDisk(400, {
      PAYFLUX_EXPORT_MODE: 'file',
      PAYFLUX_STREAM_MAXLEN: '100',
      PAYFLUX_READ_COUNT: '50',
      PAYFLUX_RETENTION_INTERVAL_MS: '100',
    });
    // Retention runs every 100 ms; over the cap it reports instead of dropping.
    await poll(
      'the backlog reported over the cap',
      () => metric(pf.url, 'payflux_stream_over_cap_messages'),
      (n) => n >= 250,
      { context: pf.stderrTail },
    );
    expect(await streamEvents(suite.redis, streamOf(env))).toBe(ids.length);
    expect(pf.stderrTail()).toContain('stream_backlog_over_cap_not_trimmed');

    unlinkSync(file);
    await untilDrained(suite.redis, env, { context: pf.stderrTail });
    expectEachOnce(exportFileIds(file), ids);
    // Once acknowledged, the entries are trimmed back towards the cap.
    await poll(
      'trimmed after the export',
      () => streamEvents(suite.redis, streamOf(env)),
      (n) => n <= 150,
    );
  });

  it('terminates a line torn by a crash or a full disk before appending, so no export line is glued to it', async () => {
    // What a SIGKILL or an ENOSPC in the middle of a write leaves behind: a line with no "\n".
    const file = join(suite.scratch(), 'export.ndjson');
    const torn = '{"type":"payment_event","schema_version":"1.0","event_id":"torn-';
    writeFileSync(file, `{"type":"payment_event","event_id":"whole"}\n${torn}`);
    const env = await payfluxEnv(suite, { PAYFLUX_EXPORT_MODE: 'file', PAYFLUX_EXPORT_FILE: file });
    const pf = await startPayflux(suite, env);
    const ids = await sendEvents(pf.url, 20, idFactory());
    await untilDrained(suite.redis, env, { context: pf.stderrTail });

    const lines = readExportFile(file);
    expect(lines.slice(0, 2)).toEqual(['{"type":"payment_event","event_id":"whole"}', torn]);
    expect(lines.slice(2).map((l) => parseExportLine(l).event_id)).toEqual(ids);
  });

  it('starts with an export file that cannot be opened, holds the events, and exports them once the directory exists', async () => {
    const { file, fix } = pathUnderAFile('not-a-dir');
    const env = await payfluxEnv(suite, {
      PAYFLUX_EXPORT_MODE: 'file',
      PAYFLUX_EXPORT_FILE: file,
      PAYFLUX_EXPORT_STALE_SEC: '1',
    });
    const pf = await startPayflux(suite, env);
    const ids = await sendEvents(pf.url, 100, idFactory());

    await poll(
      'the batch held',
      () => groupState(suite.redis, env),
      (s) => s.pending === ids.length,
      { context: pf.stderrTail },
    );
    const health = await untilStatus(`${pf.url}/export/health`, 503, { timeoutMs: 5000 });
    expect(JSON.stringify(health.body)).toContain('ENOTDIR');
    expect(pf.lines).toEqual([]);

    fix();
    await untilDrained(suite.redis, env, { context: pf.stderrTail });
    expectEachOnce(exportFileIds(file), ids);
    expect((await getJson(`${pf.url}/export/health`)).status).toBe(200);
  });

  it('reports an export file that cannot be opened before any event arrives, and its recovery without one', async () => {
    const { file, fix } = pathUnderAFile('late-volume');
    const env = await payfluxEnv(suite, {
      PAYFLUX_EXPORT_MODE: 'file',
      PAYFLUX_EXPORT_FILE: file,
      PAYFLUX_EXPORT_STALE_SEC: '1',
    });
    const pf = await startPayflux(suite, env);
    const failing = await untilStatus(`${pf.url}/export/health`, 503, { timeoutMs: 5000 });
    expect(failing.body).toMatchObject({
      healthy: false,
      destinations: { file: { healthy: false, last_success_at: null } },
    });
    expect(JSON.stringify(failing.body)).toContain('ENOTDIR');
    expect((await getJson(`${pf.url}/ready`)).status).toBe(503);

    fix();
    const healthy = await untilStatus(`${pf.url}/export/health`, 200, { timeoutMs: 6000 });
    expect(healthy.body).toMatchObject({
      healthy: true,
      destinations: { file: { healthy: true, failing_since: null } },
    });
    expect(pf.lines).toEqual([]);
  });
});
