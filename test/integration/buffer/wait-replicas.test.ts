/**
 * PAYFLUX_REDIS_WAIT_REPLICAS: ingest answers 2xx only once a replica has the events (WAIT),
 * and 503 when no replica acknowledges them in time, so that a failover cannot lose an event
 * the client was told is stored.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { post, startTestApp } from '../../support/app.js';
import { event } from '../../support/events.js';
import { unpackEntry } from '../../../src/events/packed-entry.js';
import { poll } from '../../support/poll.js';
import { startRedis } from '../../support/redis-server.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

describe('replica acknowledgement', () => {
  it('answers 200 once a replica has the batch, and 503 when none acknowledges it in time', async () => {
    const replica = await startRedis();
    suite.defer(() => replica.close());
    const r = new Redis(replica.url);
    r.on('error', () => undefined);
    suite.defer(() => r.disconnect());
    await r.replicaof('127.0.0.1', suite.server.port);
    await poll(
      'the replica in sync',
      () => r.info('replication'),
      (i) => i.includes('master_link_status:up'),
      {
        timeoutMs: 15_000,
      },
    );
    // The most the append's deadline allows: 300 ms missed the replica once in a full run under load.
    const app = await startTestApp(suite, {
      PAYFLUX_REDIS_WAIT_REPLICAS: '1',
      PAYFLUX_REDIS_WAIT_TIMEOUT_MS: '900',
      PAYFLUX_APPEND_TIMEOUT_MS: '1000',
    });
    const events = Array.from({ length: 20 }, () => event());
    expect((await post(`${app.url}/v1/events/batch`, events)).status).toBe(200);
    // The replica holds every event the client was told is stored.
    // (Each processor's events packed in one entry: src/events/packed-entry.ts.)
    const onReplica = (await r.xrange(app.stream, '-', '+'))
      .flatMap(([, f]) => unpackEntry(f[1] ?? '{}'))
      .map((text) => (JSON.parse(text) as { event_id: string }).event_id);
    expect(onReplica).toEqual(events.map((e) => e.event_id));

    await replica.stop('SIGKILL');
    // A short WAIT, so that on a loaded machine its time-out, not the append's 1 s deadline
    // around it, is what answers (both are a 503; the message tells them apart).
    const waitShort = await startTestApp(suite, {
      PAYFLUX_REDIS_WAIT_REPLICAS: '1',
      PAYFLUX_REDIS_WAIT_TIMEOUT_MS: '200',
      PAYFLUX_APPEND_TIMEOUT_MS: '1000',
    });
    const res = await post(`${waitShort.url}/v1/events/payment_exhaust`, event());
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /0 of 1 replicas acknowledged within 200 ms/,
    );
  });
});
