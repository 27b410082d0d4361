/**
 * Redis restarted under the consumer: with AOF nothing accepted is lost; without
 * persistence the consumer group is gone after the restart and must come back by itself, or
 * nothing accepted afterwards would ever be exported. Each describe owns its redis-server.
 */
import { describe, expect, it } from 'vitest';
import { idFactory } from '../../support/events.js';
import { countIds, parseExportLine } from '../../support/export-lines.js';
import { payfluxEnv } from '../../support/payflux-env.js';
import { startPayflux } from '../../support/payflux-process.js';
import { drained, groupState } from '../../support/probes.js';
import { sendEvents, startProducer } from '../../support/producer.js';
import { poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

describe('Redis restarted under the consumer, with AOF', { timeout: 30_000 }, () => {
  const suite = useRedis({ appendonly: true });

  it('exports every event accepted before, during and after the restart once', async () => {
    const { server, redis } = suite;
    const env = await payfluxEnv(suite);
    const pf = await startPayflux(suite, env);
    const producer = startProducer(() => pf.url, idFactory(), { size: 20 });
    await poll(
      'traffic flowing',
      () => pf.lines.length,
      (n) => n >= 300,
      { context: pf.stderrTail },
    );

    const failuresBefore = producer.failures;
    await server.stop('SIGTERM');
    // The outage overlaps the traffic: ingest refuses while Redis is down.
    await poll(
      'ingest refusing while Redis is down',
      () => producer.failures,
      (n) => n > failuresBefore,
    );
    await server.start();
    const acceptedAtRestart = producer.accepted.length;
    await poll(
      'traffic accepted again',
      () => producer.accepted.length,
      (n) => n >= acceptedAtRestart + 300,
      { context: pf.stderrTail },
    );
    await producer.stop();
    await poll('the group drained', () => groupState(redis, env), drained, { context: pf.stderrTail });
    await poll(
      'every accepted event on stdout',
      () => new Set(pf.lines.map((l) => parseExportLine(l).event_id)),
      (seen) => producer.accepted.every((id) => seen.has(id)),
    );

    // Accepted: exported exactly once. A request that failed while Redis went down may still
    // have been stored (its answer was lost): such events may be exported too, once.
    const counts = countIds(pf.exported().map((l) => l.event_id));
    expect(producer.accepted.filter((id) => counts.get(id) !== 1)).toEqual([]);
    const unconfirmed = new Set(producer.unconfirmed);
    const accepted = new Set(producer.accepted);
    const extra = [...counts].filter(([id]) => !accepted.has(id));
    expect(extra.filter(([id, n]) => !unconfirmed.has(id) || n !== 1)).toEqual([]);
    expect(pf.alive()).toBe(true);
  });
});

describe('Redis restarted under the consumer, without persistence', { timeout: 30_000 }, () => {
  const suite = useRedis();

  it('recreates the vanished consumer group and exports the events accepted after the restart', async () => {
    const { server, redis } = suite;
    const env = await payfluxEnv(suite);
    const pf = await startPayflux(suite, env);
    const nextId = idFactory();
    const before = await sendEvents(pf.url, 100, nextId);
    await poll(
      'the first events exported',
      () => pf.lines.length,
      (n) => n >= before.length,
      { context: pf.stderrTail },
    );

    await server.stop('SIGTERM');
    await server.start(); // empty: no stream, no group
    const after = await poll(
      'ingest answering again',
      async () => sendEvents(pf.url, 100, nextId).catch(() => []),
      (ids) => ids.length > 0,
      { context: pf.stderrTail },
    );
    await poll(
      'the new events exported',
      () => pf.lines.length,
      (n) => n >= before.length + after.length,
      { context: pf.stderrTail },
    );
    await poll('the group drained', () => groupState(redis, env), drained);
    expect([...countIds(pf.exported().map((l) => l.event_id))].sort()).toEqual(
      [...before, ...after].map((id) => [id, 1]).sort(),
    );
    expect(pf.stderrTail()).toContain('consumer_group_missing_recreated');
  });
});
