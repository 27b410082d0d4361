/**
 * `PAYFLUX_WORKERS=2`, one command: a supervising primary, one ingest worker on the HTTP port and
 * one consumer process, against a real redis-server and over real HTTP. Every accepted event is
 * exported exactly once; /metrics and /ready speak for both processes; SIGTERM exits 0 with
 * nothing pending; a worker killed with SIGKILL is forked again and nothing accepted is lost.
 */
import { describe, expect, it } from 'vitest';
import { idFactory } from '../../support/events.js';
import { countIds } from '../../support/export-lines.js';
import { payfluxEnv } from '../../support/payflux-env.js';
import { startPayflux } from '../../support/payflux-process.js';
import { drained, getJson, groupState, metric } from '../../support/probes.js';
import { sendEvents, startProducer } from '../../support/producer.js';
import { poll } from '../../support/poll.js';
import { startWorkers, workerPids } from '../../support/payflux-workers.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

const once = (ids: readonly string[]): [string, number][] => ids.map((id): [string, number] => [id, 1]).sort();

describe('PAYFLUX_WORKERS=2', { timeout: 120_000 }, () => {
  it('ingest and consumer in two processes: every accepted event exported once, /metrics over both, SIGTERM exits 0 with nothing pending', async () => {
    const { env, pf } = await startWorkers(suite);
    const ready = await getJson(`${pf.url}/ready`);
    expect(ready.body).toMatchObject({ ready: true, role: 'all', consumer: { enabled: true, running: true } });
    expect(workerPids(pf, 'ingest')).toHaveLength(1);
    expect(workerPids(pf, 'consumer')).toHaveLength(1);

    const ids = await sendEvents(pf.url, 600, idFactory(), 50);
    await poll(
      'every event exported',
      () => pf.lines.length,
      (n) => n >= ids.length,
      { context: pf.stderrTail },
    );
    await poll('the group drained', () => groupState(suite.redis, env), drained, { context: pf.stderrTail });
    expect([...countIds(pf.exported().map((l) => l.event_id))].sort()).toEqual(once(ids));
    // Counted where they happened (ingest worker, consumer process), added up by the primary.
    expect(await metric(pf.url, 'payflux_ingest_accepted_total')).toBe(ids.length);
    expect(await metric(pf.url, 'payflux_events_exported_total', { destination: 'stdout' })).toBe(ids.length);
    // The lag gauge is refreshed by the maintenance loop, not at each ack.
    await poll(
      'the lag gauge at 0',
      () => metric(pf.url, 'payflux_consumer_lag_messages'),
      (lag) => lag === 0,
      { context: pf.stderrTail },
    );

    // SIGTERM under load: ingest stops first, then the consumer acknowledges its last batch.
    const producer = startProducer(() => pf.url, idFactory(), { size: 20 });
    await poll(
      'traffic flowing',
      () => producer.accepted.length,
      (n) => n >= 300,
      { context: pf.stderrTail },
    );
    const exit = await pf.stop('SIGTERM');
    await producer.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect((await groupState(suite.redis, env)).pending).toBe(0);

    // What was accepted and not yet read waits in the stream for the next start: exported then, once.
    await pf.restart();
    await poll('the rest exported', () => groupState(suite.redis, env), drained, { context: pf.stderrTail });
    const accepted = [...ids, ...producer.accepted];
    await poll(
      'all lines read',
      () => pf.lines.length,
      (n) => n >= accepted.length,
      { context: pf.stderrTail },
    );
    expect([...countIds(pf.exported().map((l) => l.event_id))].sort()).toEqual(once(accepted));
    expect((await pf.stop('SIGTERM')).code).toBe(0);
  });

  it('SIGKILL of the ingest worker, then of the consumer: each is forked again and every accepted event is exported', async () => {
    const { env, pf } = await startWorkers(suite, {
      PAYFLUX_READ_COUNT: '50',
      PAYFLUX_CLAIM_IDLE_MS: '500',
      PAYFLUX_LEASE_TTL_MS: '1500',
    });
    const producer = startProducer(() => pf.url, idFactory(), { size: 25 });
    await poll(
      'traffic flowing',
      () => pf.lines.length,
      (n) => n >= 300,
      { context: pf.stderrTail },
    );

    const [ingestPid] = workerPids(pf, 'ingest');
    process.kill(ingestPid ?? 0, 'SIGKILL');
    await poll(
      'a new ingest worker',
      () => workerPids(pf, 'ingest').length,
      (n) => n === 2,
      {
        context: pf.stderrTail,
      },
    );
    const atIngestKill = producer.accepted.length;
    await poll(
      'traffic accepted again',
      () => producer.accepted.length,
      (n) => n >= atIngestKill + 300,
      {
        timeoutMs: 45_000,
        context: pf.stderrTail,
      },
    );

    const [consumerPid] = workerPids(pf, 'consumer');
    process.kill(consumerPid ?? 0, 'SIGKILL');
    await poll(
      'a new consumer process',
      () => workerPids(pf, 'consumer').length,
      (n) => n === 2,
      {
        context: pf.stderrTail,
      },
    );
    const atConsumerKill = producer.accepted.length;
    await poll(
      'traffic accepted again',
      () => producer.accepted.length,
      (n) => n >= atConsumerKill + 300,
      {
        timeoutMs: 45_000,
        context: pf.stderrTail,
      },
    );
    await producer.stop();
    await poll('the group drained', () => groupState(suite.redis, env), drained, {
      timeoutMs: 45_000,
      context: pf.stderrTail,
    });
    await poll(
      'all lines read',
      () => pf.lines.length,
      (n) => n >= producer.accepted.length,
      {
        context: pf.stderrTail,
      },
    );
    expect(pf.alive()).toBe(true);
    const counts = countIds(pf.exported().map((l) => l.event_id));
    // Nothing accepted is lost; the consumer's kill may repeat the one batch it had not acknowledged.
    expect(producer.accepted.filter((id) => !counts.has(id))).toEqual([]);
    const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
    expect(duplicates).toBeLessThanOrEqual(50);
    // Nothing from nowhere: an id not accepted belongs to a request cut off by a kill.
    const sent = new Set([...producer.accepted, ...producer.unconfirmed]);
    expect([...counts.keys()].filter((id) => !sent.has(id))).toEqual([]);
    expect(pf.stderrLines().filter((l) => l.includes('"msg":"worker_exited"'))).toHaveLength(2);
    expect((await pf.stop('SIGTERM')).code).toBe(0);
  });

  it('a worker that exits 78 (a key file it cannot read) ends the primary with 78, not a restart loop', async () => {
    const env = await payfluxEnv(suite, {
      PAYFLUX_WORKERS: '2',
      PAYFLUX_API_KEYS_FILE: `${suite.scratch()}/no-such-keys-file`,
    });
    const pf = await startPayflux(suite, env, { noWait: true });
    expect(await pf.exited()).toEqual({ code: 78, signal: null });
    expect(pf.stderrTail()).toContain('worker_config_error');
  });
});
