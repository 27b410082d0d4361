/**
 * Redis vanishing without closing the connections (no FIN, no RST: a host lost, a failover
 * behind a virtual IP). The kernel would keep those sockets for ~15 minutes; with
 * REDIS_SOCKET_TIMEOUT_MS PayFlux drops a connection whose commands get no answer and
 * reconnects, so ingest and export come back by themselves within seconds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { event, post, startTestApp, type TestApp } from '../../support/app.js';
import { poll } from '../../support/poll.js';
import { startBlackholeProxy, type BlackholeProxy } from '../../support/blackhole-proxy.js';
import { startRedis, type RedisServer } from '../../support/redis-server.js';

let server: RedisServer | undefined;
let proxy: BlackholeProxy | undefined;
let app: TestApp | undefined;

afterEach(async () => {
  await app?.close();
  await proxy?.close();
  await server?.close();
});

describe('Redis gone silent', { timeout: 30_000 }, () => {
  it('ingest answers 503 meanwhile, then accepts and exports again on new connections', async () => {
    server = await startRedis();
    const [host = '', port = ''] = server.addr.split(':');
    proxy = await startBlackholeProxy({ host, port: Number(port) });
    app = await startTestApp(proxy.addr, { REDIS_SOCKET_TIMEOUT_MS: '1000', PAYFLUX_RATELIMIT_RPS: '0' });
    const ingest = `${app.url}/v1/events/payment_exhaust`;
    const exported = (e: Record<string, unknown>) => app?.lines.some((l) => l.event_id === e.event_id);

    const before = event();
    expect((await post(ingest, before)).status).toBe(202);
    await poll(
      'the first event exported',
      () => exported(before),
      (yes) => yes === true,
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
      (yes) => yes === true,
      { timeoutMs: 15_000 },
    );
    expect(app.lines.filter((l) => l.event_id === during.event_id)).toHaveLength(1);
    // And acknowledged: the acks go over the shared connection, reconnected too.
    const direct = new Redis(server.url);
    try {
      await poll(
        'nothing pending',
        async () => (await direct.xpending(app?.stream ?? '', 'payment_consumers'))[0],
        (pending) => pending === 0,
        { timeoutMs: 10_000 },
      );
      expect(await direct.xlen(app.stream)).toBe(3);
    } finally {
      direct.disconnect();
    }
  });
});
