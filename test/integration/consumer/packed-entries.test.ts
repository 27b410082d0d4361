/**
 * Packed entries (several events in one stream entry's `e`, joined by `\n`) through a real
 * PayFlux process and redis-server: every event is exported once, addressed
 * `<entry-id>/<index>`; a poison event goes to the dead-letter stream on its own while the rest of
 * its entry is exported; `payflux dlq replay` brings it back.
 */
import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../support/events.js';
import { payfluxEnv } from '../../support/payflux-env.js';
import { startPayflux } from '../../support/payflux-process.js';
import { drained, groupState, metric } from '../../support/probes.js';
import { runCli } from '../../support/run-cli.js';
import { poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

describe('packed stream entries', { timeout: 30_000 }, () => {
  it('exports each event of a packed entry as <entry-id>/<index> and dead-letters a poison event alone', async () => {
    const env = await payfluxEnv(suite);
    const s = env.PAYFLUX_STREAM;
    const events = ['pk-0', 'pk-1', 'pk-2', 'pk-3'].map((id) => JSON.stringify(makeEvent(id)));
    const poison = events[2]!.replace(/"event_timestamp":"[^"]*"/, '"event_timestamp":"not a time"');
    const packed = [events[0], events[1], poison, events[3]].join('\n');
    const single = JSON.stringify(makeEvent('single-0'));
    const packedId = await suite.redis.xadd(s, '*', 'e', packed);
    const singleId = await suite.redis.xadd(s, '*', 'e', single);

    const pf = await startPayflux(suite, env);
    await poll('everything acknowledged', () => groupState(suite.redis, env), drained, { context: pf.stderrTail });
    await poll(
      'every export line read',
      () => pf.lines.length,
      (n) => n >= 4,
      { context: pf.stderrTail },
    );
    expect(pf.exported().map((l) => [l.event_id, l.stream_message_id])).toEqual([
      ['pk-0', `${packedId}/0`],
      ['pk-1', `${packedId}/1`],
      ['pk-3', `${packedId}/3`],
      ['single-0', singleId],
    ]);
    const dlq = await suite.redis.xrange(env.PAYFLUX_DLQ_STREAM, '-', '+');
    expect(dlq.map(([, f]) => [f[1], f[3], f[5]])).toEqual([[poison, `${packedId}/2`, 'decode_error']]);
    expect(await metric(pf.url, 'payflux_consumer_dlq_total', { reason: 'decode_error' })).toBe(1);
    expect(await metric(pf.url, 'payflux_consumer_processed_total')).toBe(5);

    // The poison event, repaired in the DLQ by an operator, then replayed: exported once, as an
    // entry of its own.
    const [dlqId] = dlq[0]!;
    await suite.redis.xdel(env.PAYFLUX_DLQ_STREAM, dlqId);
    await suite.redis.xadd(
      env.PAYFLUX_DLQ_STREAM,
      '*',
      'data',
      events[2]!,
      'original_id',
      `${packedId}/2`,
      'reason',
      'decode_error',
      'timestamp',
      new Date().toISOString(),
    );
    expect((await runCli(['dlq', 'replay'], env)).code).toBe(0);
    await poll(
      'the replayed event exported',
      () => pf.exported().map((l) => l.event_id),
      (ids) => ids.includes('pk-2'),
      { context: pf.stderrTail },
    );
    expect(pf.exported().filter((l) => l.event_id === 'pk-2')).toHaveLength(1);
  });
});
