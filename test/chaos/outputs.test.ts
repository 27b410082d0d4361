/**
 * Chaos: export and log outputs that fail or stall, and restarts meanwhile. A valid event is
 * never dead-lettered because a sink failed or PayFlux restarted; a stalled stdout is reported
 * unhealthy within 10 s; a stalled stderr holds no unbounded memory; a Redis outage writes a
 * few log lines, not one per request. Reduced in `npm test`; full size with `npm run chaos`.
 */
import { mkdirSync, mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { idFactory } from '../support/events.js';
import { parseExportLine, readExportFile } from '../support/export-lines.js';
import { payfluxEnv, streamOf } from '../support/payflux-env.js';
import { startPayflux } from '../support/payflux-process.js';
import { deadLettered, metric, untilDrained } from '../support/probes.js';
import { sendEvents } from '../support/producer.js';
import { poll } from '../support/poll.js';
import { useRedis } from '../support/use-redis.js';
import { FULL, record, recordLoad, rssSampler, startLoad, tally, untilAcked } from './chaos.js';

const suite = useRedis({ appendonly: true });
const readExportIds = (path: string): string[] => readExportFile(path).map((l) => parseExportLine(l).event_id);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The highest delivery count among the group's pending entries. */
async function maxDeliveries(stream: string, group: string): Promise<number> {
  const rows = (await suite.redis.xpending(stream, group, '-', '+', 1000)) as [string, string, number, number][];
  return rows.reduce((m, r) => Math.max(m, r[3]), 0);
}

describe('chaos: outputs', { timeout: FULL ? 300_000 : 90_000 }, () => {
  it('restarted again and again while the export destination fails: no valid event dead-lettered, all exported once it recovers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payflux-chaos-'));
    suite.defer(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'export.ndjson');
    // A directory where the file should be: every open fails (EISDIR), as a full or read-only disk would.
    mkdirSync(file);
    const env = await payfluxEnv(suite, {
      PAYFLUX_EXPORT_MODE: 'file',
      PAYFLUX_EXPORT_FILE: file,
      PAYFLUX_MAX_DELIVERIES: '2',
      PAYFLUX_CLAIM_IDLE_MS: '300',
      // Each new generation takes the partition over once the killed one's lease lapses.
      PAYFLUX_LEASE_TTL_MS: '1000',
    });
    const pf = await startPayflux(suite, env);
    const rss = rssSampler(() => pf.pid);
    const ids = await sendEvents(pf.url, 200, idFactory());
    const restarts = FULL ? 8 : 5;
    let born = 0; // the first stderr line of the current generation
    for (let i = 0; i < restarts; i++) {
      // Each generation has a new consumer name: it takes the partition over and reads the last
      // one's pending entries again, which counts a delivery each time. It is killed once its
      // export failed: a kill in the milliseconds a suspect spends alone in the stages is the
      // probation's own case (test/unit/pipeline/poison-policy.test.ts).
      await poll(
        'the entries delivered to this generation and its export failing',
        async () => ({
          deliveries: await maxDeliveries(streamOf(env), env.PAYFLUX_CONSUMER_GROUP),
          exportFailed: pf
            .stderrLines()
            .slice(born)
            .some((l) => l.includes('"consumer_stage_failed_retrying"') && l.includes('"stage":"export"')),
        }),
        (g) => g.deliveries >= i + 1 && g.exportFailed,
        { timeoutMs: 15_000, context: pf.stderrTail },
      );
      pf.signal('SIGKILL');
      await pf.exited();
      born = pf.stderrLines().length;
      await pf.restart();
    }
    const deliveries = await maxDeliveries(streamOf(env), env.PAYFLUX_CONSUMER_GROUP);
    rmdirSync(file);
    const fixed = Date.now();
    await untilDrained(suite.redis, env, { what: 'the backlog drained', timeoutMs: 60_000, context: pf.stderrTail });
    const recover = (Date.now() - fixed) / 1000;
    rss.stop();
    const t = tally(new Set(ids), readExportIds(file));
    const dlq = await deadLettered(suite.redis, env);
    record({
      scenario: 'restarts while export fails',
      sent: ids.length,
      acked: ids.length,
      ...t,
      fivexx: 0,
      peakRssMb: rss.peakMb(),
      recoverSec: recover,
      note: `${restarts} restarts, deliveries reached ${deliveries} (PAYFLUX_MAX_DELIVERIES=2); dead-lettered ${dlq}`,
    });
    expect(deliveries).toBeGreaterThan(2);
    expect(t.lost).toBe(0);
    expect(dlq).toBe(0);
  });

  it('stdout whose reader stopped reading: /export/health and /ready 503 within 10 s, nothing lost once it reads again', async () => {
    const env = await payfluxEnv(suite);
    const pf = await startPayflux(suite, env);
    const rss = rssSampler(() => pf.pid);
    pf.pauseOutput('stdout');
    const load = startLoad(() => pf.url, { rps: FULL ? 1000 : 300, tag: `stall${Date.now()}` });
    // The pipe takes 64 KiB before a write hangs: a few hundred lines.
    const started = Date.now();
    const r = await poll(
      '/export/health 503',
      () => fetch(`${pf.url}/export/health`).then((x) => x.status),
      (st) => st === 503,
      { timeoutMs: 20_000, context: pf.stderrTail },
    );
    const detect = (Date.now() - started) / 1000;
    const ready = await fetch(`${pf.url}/ready`);
    const reason = ((await ready.json()) as { reason?: string }).reason ?? '';
    await sleep(FULL ? 10_000 : 2000);
    pf.resumeOutput('stdout');
    const resumed = Date.now();
    await poll(
      '/ready 200',
      () => fetch(`${pf.url}/ready`).then((x) => x.status),
      (st) => st === 200,
      {
        timeoutMs: 20_000,
      },
    );
    const recover = (Date.now() - resumed) / 1000;
    await load.stop();
    await untilDrained(suite.redis, env, { what: 'the backlog drained', timeoutMs: 60_000 });
    rss.stop();
    const exported = pf.exported().map((l) => l.event_id);
    const t = tally(load.acked, exported);
    recordLoad(
      'stalled stdout',
      load,
      rss,
      t,
      recover,
      `/export/health 503 ${detect.toFixed(1)} s after the reader stopped (${reason.slice(0, 50)})`,
    );
    expect(r).toBe(503);
    expect(ready.status).toBe(503);
    expect(detect).toBeLessThan(15);
    expect(t.lost).toBe(0);
  });

  it('Redis down under load: a few log lines, not one per 503; with stderr stalled too, memory stays bounded', async () => {
    const seconds = FULL ? 60 : 8;
    const rps = FULL ? 3000 : 500;
    const env = await payfluxEnv(suite, { PAYFLUX_RATELIMIT_RPS: '0' });
    const pf = await startPayflux(suite, env);
    const rss = rssSampler(() => pf.pid);
    const load = startLoad(() => pf.url, { rps, connections: 64, tag: `flood${Date.now()}` });
    await sleep(1000);
    const linesBefore = pf.stderrLines().length;
    const sentBefore = load.sent();
    pf.pauseOutput('stderr');
    await suite.server.stop('SIGKILL');
    await sleep(seconds * 1000);
    const sentDuring = load.sent() - sentBefore;
    await suite.server.start();
    const up = Date.now();
    pf.resumeOutput('stderr');
    const recover = await untilAcked(load, up, 'after Redis is back');
    await load.stop();
    await untilDrained(suite.redis, env, { what: 'the backlog drained', timeoutMs: 60_000 });
    // Everything written meanwhile has reached us once stderr is read again; every export line too.
    await poll(
      'every acknowledged event exported',
      () =>
        tally(
          load.acked,
          pf.exported().map((l) => l.event_id),
        ).lost,
      (n) => n === 0,
      { timeoutMs: 20_000 },
    ).catch(() => undefined);
    rss.stop();
    const logLines = pf.stderrLines().length - linesBefore;
    const dropped = await metric(pf.url, 'payflux_log_dropped_lines_total');
    const exportedNow = pf.exported().map((l) => l.event_id);
    const t = tally(load.acked, exportedNow);
    if (t.lost > 0) {
      // Which of them Redis holds: stored but not exported, or never stored.
      const seen = new Set(exportedNow);
      const missing = [...load.acked].filter((id) => !seen.has(id));
      const stored = (await suite.redis.xrange(env.PAYFLUX_STREAM, '-', '+')).map(([, f]) => f.join(' '));
      const inStream = missing.filter((id) => stored.some((p) => p.includes(`"${id}"`))).length;
      console.log(
        `chaos: ${t.lost} acknowledged events not exported, ${inStream} in the stream: ${missing.slice(0, 5).join(', ')}`,
      );
    }
    recordLoad(
      'Redis outage, stderr stalled',
      load,
      rss,
      t,
      recover,
      `Redis down ${seconds} s at ${Math.round(sentDuring / seconds)} req/s: ${logLines} log lines, ${dropped} dropped`,
    );
    expect(logLines).toBeLessThan(100);
    expect(t.lost).toBe(0);
  });
});
