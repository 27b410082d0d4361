/**
 * Redis vanishing without closing the connections (no FIN, no RST: a host lost, a failover
 * behind a virtual IP). The kernel would keep those sockets for ~15 minutes; with
 * REDIS_SOCKET_TIMEOUT_MS PayFlux drops a connection whose commands get no answer and
 * reconnects, so ingest and export come back by themselves within seconds.
 */
import { describe, expect, it } from 'vitest';
import { post, startTestApp } from '../../support/app.js';
import { event } from '../../support/events.js';
import { poll } from '../../support/poll.js';
import { startBlackholeProxy } from '../../support/blackhole-proxy.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

describe('Redis gone silent', { timeout: 30_000 }, () => {
  it('ingest answers 503 meanwhile, then accepts and exports again on new connections', async () => {
    const proxy = await startBlackholeProxy({ host: '127.0.0.1', port: suite.server.port });
    suite.defer(() => proxy.close());
    // PayFlux reaches Redis through the proxy only; the suite's client goes to Redis directly.
    const app = await startTestApp(suite, {
      REDIS_ADDR: proxy.addr,
      REDIS_SOCKET_TIMEOUT_MS: '1000',
      PAYFLUX_RATELIMIT_RPS: '0',
    });
    const ingest = `${app.url}/v1/events/payment_exhaust`;
    const exported = (e: Record<string, unknown>) => app.lines.some((l) => l.event_id === e.event_id);

    const before = event();
    expect((await post(ingest, before)).status).toBe(202);
    await poll(
      'the first event exported',
      () => exported(before),
      (yes) => yes,
      { timeoutMs: 5000 },
    );

    proxy.cut();
    const during = event();
    const started = Date.now();
    const refused = await post(ingest, during);
    expect(refused.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1500);

    // The producer retries, as a 503 asks it to; once PayFlux has reconnected it is stored once.
    const accepted = await poll(
      'ingest to accept again',
      () => post(ingest, during),
      (r) => r.status === 202,
      { timeoutMs: 10_000 },
    );
    expect(accepted.status).toBe(202);
    const after = event();
    expect((await post(ingest, after)).status).toBe(202);
    // The reader's own watchdog (BLOCK time + 5 s) brings the export back.
    await poll(
      'export to resume',
      () => exported(during) && exported(after),
      (yes) => yes,
      { timeoutMs: 15_000 },
    );
    expect(app.lines.filter((l) => l.event_id === during.event_id)).toHaveLength(1);
    // And acknowledged: the acks go over the shared connection, reconnected too.
    await poll(
      'nothing pending',
      async () => (await suite.redis.xpending(app.stream, 'payment_consumers'))[0],
      (pending) => pending === 0,
      { timeoutMs: 10_000 },
    );
    expect(await suite.redis.xlen(app.stream)).toBe(3);
  });
});
