/**
 * Poison entries: an entry that cannot be decoded, or one delivered more than
 * PAYFLUX_MAX_DELIVERIES times whose processing alone ended three earlier runs (the strikes
 * of its probation mark), goes to the dead-letter stream with
 * `data, original_id, reason, timestamp` and is acknowledged; `payflux dlq list|replay|purge`
 * handle them. Real process, real redis-server; poison entries are written with ioredis.
 */
import { describe, expect, it } from 'vitest';
import { PROBATION_STRIKES } from '../../../src/pipeline/poison-policy.js';
import { idFactory, makeEvent } from '../../support/events.js';
import { countIds } from '../../support/export-lines.js';
import { payfluxEnv } from '../../support/payflux-env.js';
import { startPayflux } from '../../support/payflux-process.js';
import { drained, groupState, metric } from '../../support/probes.js';
import { sendEvents } from '../../support/producer.js';
import { runCli } from '../../support/run-cli.js';
import { poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

interface DlqLine {
  dlq_id: string;
  original_id: string;
  reason: string;
  timestamp: string;
  data: string;
}

const jsonLines = <T>(text: string): T[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);

describe('dead-letter queue', { timeout: 30_000 }, () => {
  it('dead-letters undecodable entries and suspects that ended a run alone, exports valid events however often they were delivered, acks them all, and counts by reason', async () => {
    const env = await payfluxEnv(suite, { PAYFLUX_MAX_DELIVERIES: '3', PAYFLUX_CLAIM_IDLE_MS: '500' });
    const s = env.PAYFLUX_STREAM;
    const g = env.PAYFLUX_CONSUMER_GROUP;
    await suite.redis.xgroup('CREATE', s, g, '0', 'MKSTREAM');

    // Three valid events already delivered to a consumer that vanished, with delivery counts set
    // as if earlier consumers had died holding them: the reclaim makes them 4, 3 and 10. The
    // first carries a probation mark with the strikes of three runs that died processing that
    // entry alone: a dead letter. The second is within the bound; the third, redelivered by
    // restarts, with one strike (a mark holding a time counts as one), is processed alone and exported.
    const poison = makeEvent('poison-1');
    const boundary = makeEvent('boundary-1');
    const restarted = makeEvent('restarted-1');
    const poisonId = await suite.redis.xadd(s, '*', 'e', JSON.stringify(poison));
    const boundaryId = await suite.redis.xadd(s, '*', 'e', JSON.stringify(boundary));
    const restartedId = await suite.redis.xadd(s, '*', 'e', JSON.stringify(restarted));
    await suite.redis.xreadgroup('GROUP', g, 'ghost', 'COUNT', 3, 'STREAMS', s, '>');
    await suite.redis.xclaim(s, g, 'ghost', 0, poisonId!, 'IDLE', 60_000, 'RETRYCOUNT', 3, 'JUSTID');
    await suite.redis.xclaim(s, g, 'ghost', 0, boundaryId!, 'IDLE', 60_000, 'RETRYCOUNT', 2, 'JUSTID');
    await suite.redis.xclaim(s, g, 'ghost', 0, restartedId!, 'IDLE', 60_000, 'RETRYCOUNT', 9, 'JUSTID');
    const marks = `${env.PAYFLUX_KEY_PREFIX}probation`;
    await suite.redis.hset(marks, poisonId!, String(PROBATION_STRIKES));
    await suite.redis.hset(marks, restartedId!, new Date().toISOString());
    // Undecodable: not JSON, and an entry without the payload field at all (another producer's).
    const garbageId = await suite.redis.xadd(s, '*', 'e', '{"event_id": not json');
    const foreignId = await suite.redis.xadd(s, '*', 'something', 'else');

    const pf = await startPayflux(suite, env);
    const live = await sendEvents(pf.url, 50, idFactory());
    await poll('everything acknowledged', () => groupState(suite.redis, env), drained, { context: pf.stderrTail });
    await poll(
      'every export line read',
      () => pf.lines.length,
      (n) => n >= live.length + 2,
    );

    const exported = countIds(pf.exported().map((l) => l.event_id));
    expect([...exported].sort()).toEqual(
      [[boundary.event_id, 1], [restarted.event_id, 1], ...live.map((id) => [id, 1])].sort(),
    );
    // Every mark is gone: the poison's with its dead letter, the suspect's once it passed.
    expect(await suite.redis.hlen(marks)).toBe(0);

    const dlq = await suite.redis.xrange(env.PAYFLUX_DLQ_STREAM, '-', '+');
    const entries = dlq.map(
      ([, f]) =>
        Object.fromEntries(f.flatMap((v, i) => (i % 2 === 0 ? [[v, f[i + 1]]] : []))) as Record<string, string>,
    );
    expect(entries.map((e) => [e.original_id, e.reason, e.data]).sort()).toEqual(
      [
        [poisonId, 'max_deliveries', JSON.stringify(poison)],
        [garbageId, 'decode_error', '{"event_id": not json'],
        [foreignId, 'decode_error', ''],
      ].sort(),
    );
    for (const e of entries) {
      expect(Object.keys(e).sort()).toEqual(['data', 'original_id', 'reason', 'timestamp']);
      expect(Date.parse(e.timestamp ?? '')).not.toBeNaN();
    }
    expect(await metric(pf.url, 'payflux_consumer_dlq_total', { reason: 'decode_error' })).toBe(2);
    expect(await metric(pf.url, 'payflux_consumer_dlq_total', { reason: 'max_deliveries' })).toBe(1);
  });

  it('payflux dlq list prints the entries, dlq replay feeds them back to the consumer, dlq purge deletes them', async () => {
    const env = await payfluxEnv(suite);
    const pf = await startPayflux(suite, env);
    const s = env.PAYFLUX_STREAM;
    // A valid event dead-lettered earlier (say after max deliveries), and an undecodable one.
    const parked = makeEvent('parked-1');
    await suite.redis.xadd(
      env.PAYFLUX_DLQ_STREAM,
      '*',
      'data',
      JSON.stringify(parked),
      'original_id',
      '1-1',
      'reason',
      'max_deliveries',
      'timestamp',
      new Date().toISOString(),
    );
    const garbageId = await suite.redis.xadd(s, '*', 'e', 'garbage');
    await poll(
      'the garbage dead-lettered',
      () => suite.redis.xlen(env.PAYFLUX_DLQ_STREAM),
      (n) => n === 2,
      { context: pf.stderrTail },
    );

    const list = await runCli(['dlq', 'list'], env);
    expect(list.code).toBe(0);
    const listed = jsonLines<DlqLine>(list.stdout);
    expect(listed.map((l) => [l.original_id, l.reason, l.data])).toEqual([
      ['1-1', 'max_deliveries', JSON.stringify(parked)],
      [garbageId, 'decode_error', 'garbage'],
    ]);
    expect(listed.every((l) => /^\d+-\d+$/.test(l.dlq_id) && !Number.isNaN(Date.parse(l.timestamp)))).toBe(true);

    // Replay moves both back into the stream: the valid event is exported now, the garbage is
    // dead-lettered again (under its new stream id).
    const replay = await runCli(['dlq', 'replay'], env);
    expect(replay).toMatchObject({ code: 0, stdout: '' });
    expect(replay.stderr).toContain('replayed 2 entries');
    await poll(
      'the parked event exported',
      () => pf.exported().map((l) => l.event_id),
      (ids) => ids.includes(parked.event_id),
      { context: pf.stderrTail },
    );
    await poll('everything acknowledged', () => groupState(suite.redis, env), drained);
    const after = jsonLines<DlqLine>((await runCli(['dlq', 'list'], env)).stdout);
    expect(after.map((l) => [l.reason, l.data])).toEqual([['decode_error', 'garbage']]);
    expect(after[0]?.original_id).not.toBe(garbageId);
    expect(pf.exported().map((l) => l.event_id)).toEqual([parked.event_id]);

    const purge = await runCli(['dlq', 'purge'], env);
    expect(purge.code).toBe(0);
    expect(purge.stderr).toContain('purged 1 entries');
    expect(await suite.redis.xlen(env.PAYFLUX_DLQ_STREAM)).toBe(0);
  });
});
