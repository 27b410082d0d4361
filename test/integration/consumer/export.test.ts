/**
 * The consumer's export as a user sees it: `payflux serve` as a real process against a real
 * redis-server; stdout carries export lines only, ack modes, `payflux replay --since`.
 */
import { describe, expect, it } from 'vitest';
import { symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { idFactory, makeEvent } from '../../support/events.js';
import { countIds, readExportFile } from '../../support/export-lines.js';
import { API_KEY, payfluxEnv, streamOf } from '../../support/payflux-env.js';
import { startPayflux } from '../../support/payflux-process.js';
import { drained, getJson, groupState, metric } from '../../support/probes.js';
import { sendEvents } from '../../support/producer.js';
import { runCli } from '../../support/run-cli.js';
import { poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

async function postOne(url: string, event: object): Promise<Response> {
  return fetch(`${url}/v1/events/payment_exhaust`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
}

describe('stdout export', { timeout: 30_000 }, () => {
  it('exports an accepted event as exactly one JSON line on stdout within a second, with logs on stderr only', async () => {
    const env = await payfluxEnv(suite);
    const pf = await startPayflux(suite, env);
    const nextId = idFactory();

    // Text that would break a line or a naive serialiser: quotes, a newline, U+2028, non-ASCII.
    const first = { ...makeEvent(nextId()), merchant_id_hash: 'm"1\n\u2028é\\', unknown_field: 'dropped' };
    const sentAt = Date.now();
    const res = await postOne(pf.url, first);
    expect(res.status).toBe(202);
    await poll(
      'the export line',
      () => pf.lines.length,
      (n) => n >= 1,
      { timeoutMs: 1000, everyMs: 5, context: pf.stderrTail },
    );
    expect(Date.now() - sentAt).toBeLessThan(1000);

    // A duplicate is answered 202 but stored (and so exported) once; a later event shows the
    // pipeline moved past both, so a second line for the first event would have come by now.
    const dup = await postOne(pf.url, first);
    expect(dup.status).toBe(202);
    expect(dup.headers.get('payflux-duplicate')).toBe('true');
    const second = makeEvent(nextId());
    expect((await postOne(pf.url, second)).status).toBe(202);
    await poll(
      'the second line',
      () => pf.lines.length,
      (n) => n >= 2,
      { context: pf.stderrTail },
    );
    await poll('the group drained', () => groupState(suite.redis, env), drained);

    const lines = pf.exported();
    expect(lines.map((l) => l.event_id)).toEqual([first.event_id, second.event_id]);
    for (const l of lines) {
      expect(l.type).toBe('payment_event');
      expect(Object.keys(l).slice(0, 6)).toEqual([
        'type',
        'schema_version',
        'event_id',
        'event_type',
        'event_timestamp',
        'processor',
      ]);
      const sent = l.event_id === first.event_id ? first : second;
      expect(l).toMatchObject({
        event_timestamp: sent.event_timestamp,
        processor: 'stripe',
        retry_count: 1,
        merchant_id_hash: sent.merchant_id_hash,
      });
      expect(l).not.toHaveProperty('unknown_field');
      expect(l.stream_message_id).toMatch(/^\d+-\d+$/);
      expect(typeof l.processed_at).toBe('string');
    }
    // Every exported event was timed from ingest to export.
    expect(await metric(pf.url, 'payflux_end_to_end_latency_seconds_count')).toBe(2);
    expect(await metric(pf.url, 'payflux_events_exported_total', { destination: 'stdout' })).toBe(2);
    // The logs went to stderr: the process did log (server_listening) and none of it on stdout.
    expect(pf.stderrTail()).toContain('"msg":"server_listening"');
    expect(pf.lines.some((l) => l.includes('"level"'))).toBe(false);
  });

  it('exports an entry another producer stored under an explicit ancient id without timing it as decades old', async () => {
    const env = await payfluxEnv(suite);
    const event = makeEvent(idFactory()());
    await suite.redis.xadd(env.PAYFLUX_STREAM, '1-1', 'e', JSON.stringify(event));
    const pf = await startPayflux(suite, env);
    await poll(
      'the export line',
      () => pf.lines.length,
      (n) => n >= 1,
      { context: pf.stderrTail },
    );
    expect(pf.exported()[0]).toMatchObject({ event_id: event.event_id, stream_message_id: '1-1' });
    expect(await metric(pf.url, 'payflux_events_exported_total', { destination: 'stdout' })).toBe(1);
    expect(await metric(pf.url, 'payflux_end_to_end_latency_seconds_count')).toBe(0);
  });

  it('in before_export mode acknowledges a batch before exporting it, counts what a failing file missed, and writes it again once it recovers', async () => {
    // The export file is /dev/full: nothing can be written, so whatever is acknowledged was
    // acknowledged before the export (after_export would keep it pending; see export-failure).
    const dir = suite.scratch();
    const file = join(dir, 'export.ndjson');
    symlinkSync('/dev/full', file);
    const env = await payfluxEnv(suite, {
      PAYFLUX_ACK_MODE: 'before_export',
      PAYFLUX_EXPORT_MODE: 'file',
      PAYFLUX_EXPORT_FILE: file,
    });
    const pf = await startPayflux(suite, env);

    const ids = await sendEvents(pf.url, 50, idFactory());
    await poll('the batch acknowledged while the export fails', () => groupState(suite.redis, env), drained, {
      context: pf.stderrTail,
    });
    const health = await poll(
      'the export failure reported',
      () => getJson(`${pf.url}/export/health`),
      (h) => h.body.destinations !== undefined && JSON.stringify(h.body).includes('ENOSPC'),
    );
    expect(readExportFile(file)).toEqual([]);
    expect(health.body).toMatchObject({ export_mode: 'file' });

    // Best effort: what the file missed is counted, not retried; once the path is writable,
    // the next batches are written there.
    expect(await metric(pf.url, 'payflux_export_dropped_events_total', { destination: 'file' })).toBe(ids.length);
    unlinkSync(file);
    const later = await sendEvents(pf.url, 20, idFactory());
    const lines = await poll(
      'the export after recovery',
      () => readExportFile(file),
      (l) => l.length >= later.length,
      { context: pf.stderrTail },
    );
    expect([...countIds(lines.map((l) => (JSON.parse(l) as { event_id: string }).event_id))]).toEqual(
      later.map((id) => [id, 1]),
    );
  });
});

describe('memory buffer', { timeout: 30_000 }, () => {
  it('with PAYFLUX_BUFFER=memory and no Redis, the same pipeline exports every accepted event once, in order', async () => {
    const env = await payfluxEnv(suite, { PAYFLUX_BUFFER: 'memory', REDIS_ADDR: '' });
    const pf = await startPayflux(suite, env);
    const ids = await sendEvents(pf.url, 300, idFactory());
    await poll(
      'the export',
      () => pf.lines.length,
      (n) => n >= ids.length,
      { context: pf.stderrTail },
    );
    expect(pf.exported().map((l) => l.event_id)).toEqual(ids);
    const ready = await getJson(`${pf.url}/ready`);
    expect(ready.body).toMatchObject({ ready: true, buffer: 'memory', consumer: { running: true } });
    expect((await pf.stop('SIGTERM')).code).toBe(0);
    expect(pf.lines).toHaveLength(ids.length);
  });
});

describe('payflux replay --since', { timeout: 30_000 }, () => {
  it('re-exports the stored events inside the window to stdout without touching the consumer group', async () => {
    const env = await payfluxEnv(suite);
    // An entry stored two hours ago (explicit stream id in the past), before the live ones.
    const oldEvent = makeEvent('old-event-1');
    await suite.redis.xadd(
      env.PAYFLUX_STREAM,
      `${Date.now() - 2 * 3_600_000}-0`,
      'e',
      JSON.stringify(oldEvent),
      't',
      String(Date.now() - 2 * 3_600_000),
    );
    const pf = await startPayflux(suite, env);
    const ids = await sendEvents(pf.url, 120, idFactory(), 60);
    await poll(
      'the live export',
      () => pf.lines.length,
      (n) => n >= ids.length + 1,
      { context: pf.stderrTail },
    );
    expect((await pf.stop('SIGTERM')).code).toBe(0);
    expect(drained(await groupState(suite.redis, env))).toBe(true);
    // More than two replay pages (1000 entries each), stored in stripe's partition while no consumer runs.
    const pipeline = suite.redis.pipeline();
    const stored: string[] = [];
    for (let i = 0; i < 2100; i++) {
      const e = makeEvent(`stored-${i}`);
      stored.push(e.event_id);
      pipeline.xadd(streamOf(env), '*', 'e', JSON.stringify(e));
    }
    await pipeline.exec();
    const before = await groupState(suite.redis, env);
    expect(before).toMatchObject({ pending: 0, lag: stored.length });

    const lastHour = await runCli(['replay', '--since', '1h'], env);
    expect(lastHour.code).toBe(0);
    const replayed = lastHour.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { type: string; event_id: string });
    expect(replayed.map((l) => l.event_id)).toEqual([...ids, ...stored]);
    expect(replayed.every((l) => l.type === 'payment_event')).toBe(true);
    expect(lastHour.stderr).toContain(`re-exported ${ids.length + stored.length} events`);

    const threeHours = await runCli(['replay', '--since', '3h'], env);
    expect(threeHours.code).toBe(0);
    expect(
      threeHours.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { event_id: string }).event_id),
    ).toEqual([oldEvent.event_id, ...ids, ...stored]);

    const future = await runCli(['replay', '--since', new Date(Date.now() + 60_000).toISOString()], env);
    expect(future).toMatchObject({ code: 0, stdout: '' });
    expect(await groupState(suite.redis, env)).toEqual(before);
  });
});
