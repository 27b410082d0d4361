/**
 * Signals under load, against a real process and a real redis-server: SIGHUP rotation loses
 * no line, SIGTERM finishes and acks the batch in flight and exits 0, SIGKILL loses no accepted
 * event (at least once, duplicates bounded by one read batch).
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { unpackEntry } from '../../../src/events/packed-entry.js';
import { compareStreamIds } from '../../../src/stream-id.js';
import { idFactory } from '../../support/events.js';
import { countIds, parseExportLine, readExportFile, type ExportLine } from '../../support/export-lines.js';
import { payfluxEnv, streamsOf } from '../../support/payflux-env.js';
import { startPayflux } from '../../support/payflux-process.js';
import { drained, getJson, groupState } from '../../support/probes.js';
import { sendEvents, startProducer } from '../../support/producer.js';
import { poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

/** Event ids of the entries the group has not delivered yet (after last-delivered-id), in every partition. */
async function undelivered(env: {
  readonly PAYFLUX_STREAM: string;
  readonly PAYFLUX_CONSUMER_GROUP: string;
  readonly [name: string]: string;
}): Promise<string[]> {
  const out: string[] = [];
  for (const stream of streamsOf(env)) {
    if ((await suite.redis.exists(stream)) === 0) continue;
    const groups = (await suite.redis.xinfo('GROUPS', stream)) as unknown[][];
    const g = groups.find((x) => x[x.indexOf('name') + 1] === env.PAYFLUX_CONSUMER_GROUP) ?? [];
    const last = String(g[g.indexOf('last-delivered-id') + 1]);
    const tail = await suite.redis.xrange(stream, `(${last}`, '+');
    for (const [, f] of tail) {
      for (const stored of unpackEntry(f[f.indexOf('e') + 1] ?? '{}')) {
        out.push((JSON.parse(stored) as { event_id: string }).event_id);
      }
    }
  }
  return out;
}

describe('signals under load', { timeout: 30_000 }, () => {
  it('SIGHUP while producers keep sending: the rotated file and the new one together hold every accepted event once', async () => {
    const file = join(suite.scratch(), 'export.ndjson');
    const env = await payfluxEnv(suite, { PAYFLUX_EXPORT_MODE: 'file', PAYFLUX_EXPORT_FILE: file });
    const pf = await startPayflux(suite, env);
    const producer = startProducer(() => pf.url, idFactory(), { size: 20 });

    await poll(
      'traffic flowing into the file',
      () => readExportFile(file).length,
      (n) => n >= 200,
      { context: pf.stderrTail },
    );
    renameSync(file, `${file}.1`); // what logrotate does first
    pf.signal('SIGHUP');
    await poll(
      'the new file in use',
      () => readExportFile(file).length,
      (n) => n >= 200,
      { context: pf.stderrTail },
    );
    const sentBefore = producer.accepted.length;
    await poll(
      'more traffic',
      () => producer.accepted.length,
      (n) => n >= sentBefore + 200,
    );
    await producer.stop();
    expect(producer.failures).toBe(0);
    await poll('the group drained', () => groupState(suite.redis, env), drained, { context: pf.stderrTail });

    const rotated = readExportFile(`${file}.1`).map(parseExportLine);
    const current = readExportFile(file).map(parseExportLine);
    expect(rotated.length).toBeGreaterThan(0);
    expect(current.length).toBeGreaterThan(0);
    const all = [...rotated, ...current];
    expect([...countIds(all.map((l) => l.event_id))].sort()).toEqual(producer.accepted.map((id) => [id, 1]).sort());
    // The reopen is ordered with the writes: everything before it went to the old file.
    const lastOld =
      rotated
        .map((l) => l.stream_message_id)
        .sort(compareStreamIds)
        .at(-1) ?? '';
    const firstNew = current.map((l) => l.stream_message_id).sort(compareStreamIds)[0] ?? '';
    expect(compareStreamIds(lastOld, firstNew)).toBeLessThan(0);
    expect(pf.stderrTail()).toContain('export_file_reopened');
  });

  it('SIGTERM while producers keep sending: exits 0, nothing left pending, every accepted event exported once (the undelivered rest after a restart)', async () => {
    const env = await payfluxEnv(suite);
    const pf = await startPayflux(suite, env);
    const producer = startProducer(() => pf.url, idFactory(), { size: 20 });
    await poll(
      'traffic flowing',
      () => pf.lines.length,
      (n) => n >= 500,
      { context: pf.stderrTail },
    );

    const t0 = Date.now();
    pf.signal('SIGTERM');
    const exit = await pf.exited();
    const tookMs = Date.now() - t0;
    await producer.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(5000);
    expect(pf.stderrTail()).toContain('shutdown_complete');

    // Nothing delivered is left unacknowledged; what was accepted is exported or still waiting
    // undelivered in the stream for the next start, never both and never twice.
    const state = await groupState(suite.redis, env);
    expect(state.pending).toBe(0);
    const exportedFirst = pf.exported().map((l) => l.event_id);
    const waiting = await undelivered(env);
    expect([...countIds([...exportedFirst, ...waiting])].sort()).toEqual(producer.accepted.map((id) => [id, 1]).sort());

    await pf.restart();
    await poll('the rest exported', () => groupState(suite.redis, env), drained, { context: pf.stderrTail });
    await poll(
      'all lines read',
      () => pf.lines.length,
      (n) => n >= producer.accepted.length,
    );
    expect([...countIds(pf.exported().map((l) => l.event_id))].sort()).toEqual(
      producer.accepted.map((id) => [id, 1]).sort(),
    );
  });

  it('SIGTERM while the export is failing: exits 0 within the shutdown timeout and leaves the unexported batch pending, not acked', async () => {
    const file = join(suite.scratch(), 'export.ndjson');
    symlinkSync('/dev/full', file);
    const env = await payfluxEnv(suite, {
      PAYFLUX_EXPORT_MODE: 'file',
      PAYFLUX_EXPORT_FILE: file,
      PAYFLUX_SHUTDOWN_TIMEOUT_SEC: '3',
    });
    const pf = await startPayflux(suite, env);
    const ids = await sendEvents(pf.url, 100, idFactory(), 100);
    await poll(
      'the batch held',
      () => groupState(suite.redis, env),
      (s) => s.pending === ids.length,
      { context: pf.stderrTail },
    );

    const t0 = Date.now();
    const exit = await pf.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await groupState(suite.redis, env)).toMatchObject({ pending: ids.length, lag: 0 });
  });

  it('SIGKILL while producers keep sending, then a restart: every accepted event is exported, duplicates at most one read batch', async () => {
    const file = join(suite.scratch(), 'export.ndjson');
    const readCount = 50;
    const env = await payfluxEnv(suite, {
      PAYFLUX_EXPORT_MODE: 'file',
      PAYFLUX_EXPORT_FILE: file,
      PAYFLUX_READ_COUNT: String(readCount),
      PAYFLUX_CLAIM_IDLE_MS: '500',
      // The restarted process takes the partitions over once the killed one's lease lapses.
      PAYFLUX_LEASE_TTL_MS: '1500',
    });
    const pf = await startPayflux(suite, env);
    // Two producers keep the consumer busy, so the kill lands with a batch in flight.
    const nextId = idFactory();
    const producers = [
      startProducer(() => pf.url, nextId, { size: 25 }),
      startProducer(() => pf.url, nextId, { size: 25 }),
    ];
    const producer = {
      get accepted() {
        return producers.flatMap((p) => p.accepted);
      },
      get unconfirmed() {
        return producers.flatMap((p) => p.unconfirmed);
      },
    };
    await poll(
      'traffic flowing into the file',
      () => readExportFile(file).length,
      (n) => n >= 1000,
      { context: pf.stderrTail },
    );

    expect((await pf.stop('SIGKILL')).signal).toBe('SIGKILL');
    const acceptedAtKill = producer.accepted.length;
    await pf.restart();
    await poll(
      'traffic accepted again',
      () => producer.accepted.length,
      (n) => n >= acceptedAtKill + 300,
      { context: pf.stderrTail },
    );
    await Promise.all(producers.map((p) => p.stop()));
    await poll('the group drained', () => groupState(suite.redis, env), drained, {
      timeoutMs: 10_000,
      context: pf.stderrTail,
    });

    const lines: ExportLine[] = readExportFile(file).map(parseExportLine);
    const counts = countIds(lines.map((l) => l.event_id));
    const missing = producer.accepted.filter((id) => !counts.has(id));
    expect(missing).toEqual([]);
    const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
    expect(duplicates).toBeLessThanOrEqual(readCount);
    // Nothing from nowhere: an id not accepted belongs to a request cut off by the kill.
    const sent = new Set([...producer.accepted, ...producer.unconfirmed]);
    expect([...counts.keys()].filter((id) => !sent.has(id))).toEqual([]);
    expect(producer.accepted.length).toBeGreaterThan(acceptedAtKill);
  });
});

describe('SIGHUP outside the steady state', { timeout: 30_000 }, () => {
  const logged = (pf: { stderrLines(): readonly string[] }, msg: string) =>
    pf.stderrLines().filter((l) => l.includes(`"msg":"${msg}"`)).length;

  it('while still starting (Redis unreachable): it neither ends the process nor is lost, the reload runs once started', async () => {
    const env = await payfluxEnv(suite);
    await suite.server.stop();
    let pf: Awaited<ReturnType<typeof startPayflux>>;
    try {
      pf = await startPayflux(suite, env, { noWait: true });
      await poll(
        'start() retrying Redis',
        () => logged(pf, 'redis_unreachable'),
        (n) => n >= 1,
        { context: () => pf.stderrTail() },
      );
      pf.signal('SIGHUP');
      const seen = logged(pf, 'redis_unreachable');
      await poll(
        'another attempt after the signal',
        () => logged(pf, 'redis_unreachable'),
        (n) => n > seen,
        { context: () => pf.stderrTail() },
      );
      expect(pf.alive()).toBe(true);
      expect(logged(pf, 'api_keys_unchanged')).toBe(0);
    } finally {
      await suite.server.start();
    }
    await poll(
      'healthy',
      () =>
        getJson(`${pf.url}/health`).then(
          (r) => r.status,
          () => 0,
        ),
      (s) => s === 200,
      { context: () => pf.stderrTail() },
    );
    // The keys are in the process environment, so the deferred reload finds them unchanged.
    await poll(
      'the deferred reload',
      () => logged(pf, 'api_keys_unchanged'),
      (n) => n === 1,
      { context: () => pf.stderrTail() },
    );
    expect((await pf.stop()).code).toBe(0);
  });

  it('with an unreadable .env: keeps the old keys and running, and still reopens the export file', async () => {
    const file = join(suite.scratch(), 'export.ndjson');
    const cwd = suite.scratch();
    const env = await payfluxEnv(suite, { PAYFLUX_EXPORT_MODE: 'file', PAYFLUX_EXPORT_FILE: file });
    const pf = await startPayflux(suite, env, { cwd });
    await sendEvents(pf.url, 20, idFactory());
    await poll(
      'the first lines',
      () => readExportFile(file).length,
      (n) => n === 20,
      { context: pf.stderrTail },
    );

    mkdirSync(join(cwd, '.env')); // reading it now fails (EISDIR)
    renameSync(file, `${file}.1`);
    pf.signal('SIGHUP');
    await poll(
      'the reload refused and the file reopened',
      () => [logged(pf, 'reload_failed_keeping_old_keys'), logged(pf, 'export_file_reopened')],
      ([a, b]) => a === 1 && b === 1,
      { context: pf.stderrTail },
    );
    expect(pf.alive()).toBe(true);

    const after = await sendEvents(pf.url, 20, idFactory());
    expect(after).toHaveLength(20);
    await poll(
      'the next lines in the new file',
      () => readExportFile(file).length,
      (n) => n === 20,
      { context: pf.stderrTail },
    );
    expect(readExportFile(`${file}.1`)).toHaveLength(20);
    expect((await pf.stop()).code).toBe(0);
  });
});
