/**
 * Health tells the truth: a destination whose write hangs (a stdout reader that stopped
 * reading), a Redis that refuses writes (maxmemory), stops answering (SIGSTOP) or refuses the
 * password make `/ready` (and `/export/health` for destinations) 503 with the reason within
 * seconds, and 200 again once the fault is gone. In-process PayFlux over real HTTP against the
 * suite's redis-server.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Running } from '../../../src/main.js';
import { captureLogs, post, startTestApp, type LogLine } from '../../support/app.js';
import { makeEvent } from '../../support/events.js';
import { poll } from '../../support/poll.js';
import { useRedis, type RedisSuite } from '../../support/use-redis.js';

const suite = useRedis();

interface Started {
  readonly running: Running;
  readonly url: string;
  readonly logs: LogLine[];
}

async function startWith(s: RedisSuite, env: Record<string, string>, stdout?: Writable): Promise<Started> {
  const { logger, logs } = captureLogs();
  const { running, url } = await startTestApp(s, env, { logger, stdout });
  return { running, url, logs };
}

const ready = async (url: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** Poll /ready until it answers `status`. */
const untilReady = (url: string, status: number, timeoutMs: number) =>
  poll(
    `/ready ${status}`,
    () => ready(url),
    (x) => x.status === status,
    { timeoutMs },
  );

describe('truthful health', { timeout: 60_000 }, () => {
  it('a stdout whose reader stopped reading makes /export/health and /ready 503 within 10 s; everything is exported once it reads again', async () => {
    let stalled = true;
    const held: (() => void)[] = [];
    const lines: string[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _e, done) {
        lines.push(
          ...chunk
            .toString()
            .split('\n')
            .filter((l) => l !== ''),
        );
        if (stalled) held.push(done);
        else done();
      },
    });
    const pf = await startWith(suite, {}, stdout);
    expect((await ready(pf.url)).status).toBe(200);
    const sent = [makeEvent('stall-1'), makeEvent('stall-2')];
    for (const e of sent) expect((await post(`${pf.url}/v1/events/payment_exhaust`, e)).status).toBe(202);
    const t0 = Date.now();
    const r = await untilReady(pf.url, 503, 15_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(String(r.body.reason)).toMatch(/^export destination unhealthy: stdout \(a write pending since /);
    const eh = await fetch(`${pf.url}/export/health`);
    expect(eh.status).toBe(503);
    const body = (await eh.json()) as { destinations: { stdout: { healthy: boolean; write_pending_since: string } } };
    expect(body.destinations.stdout.healthy).toBe(false);
    expect(Date.parse(body.destinations.stdout.write_pending_since)).not.toBeNaN();

    stalled = false;
    for (const done of held.splice(0)) done();
    await untilReady(pf.url, 200, 10_000);
    await poll(
      'every event exported',
      () => lines.length,
      (n) => n >= sent.length,
    );
  });

  it('Redis at maxmemory: /ready 503 with the OOM reason while ingest answers 503, 200 once memory is free', async () => {
    const pf = await startWith(suite, {});
    const [, policy] = (await suite.redis.config('GET', 'maxmemory-policy')) as [string, string];
    await suite.redis.config('SET', 'maxmemory-policy', 'noeviction');
    await suite.redis.config('SET', 'maxmemory', '1');
    try {
      const t0 = Date.now();
      const r = await untilReady(pf.url, 503, 10_000);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(String(r.body.reason)).toMatch(/^Redis refuses a write: OOM/);
      expect(r.body.redis).toMatchObject({ connected: true, writable: false });
      expect((await post(`${pf.url}/v1/events/payment_exhaust`, makeEvent('oom-1'))).status).toBe(503);
    } finally {
      await suite.redis.config('SET', 'maxmemory', '0');
      await suite.redis.config('SET', 'maxmemory-policy', policy);
    }
    await untilReady(pf.url, 200, 10_000);
  });

  it('Redis frozen (SIGSTOP): /ready 503 within seconds saying it did not answer a write', async () => {
    const pf = await startWith(suite, {});
    expect((await ready(pf.url)).status).toBe(200);
    suite.server.pause();
    try {
      const t0 = Date.now();
      const r = await untilReady(pf.url, 503, 10_000);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(String(r.body.reason)).toMatch(/no answer within 1000 ms|not connected/);
    } finally {
      suite.server.resume();
    }
    await untilReady(pf.url, 200, 20_000);
  });

  it('a password Redis no longer accepts: /ready 503 naming the authentication failure, logged once as redis_auth_failed', async () => {
    const pf = await startWith(suite, {});
    await suite.redis.config('SET', 'requirepass', 'a-new-password-0001');
    try {
      // Connections already authenticated stay so: drop PayFlux's, whose reconnects now fail.
      await suite.redis.auth('a-new-password-0001');
      await suite.redis.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      const r = await poll(
        '/ready 503 naming the auth failure',
        () => ready(pf.url),
        (x) => x.status === 503 && /NOAUTH|WRONGPASS/.test(String(x.body.reason)),
        { timeoutMs: 10_000 },
      );
      expect(String(r.body.reason)).toMatch(/^the buffer is not connected \((NOAUTH|WRONGPASS)/);
      await poll(
        'the log line',
        () => pf.logs.filter((l) => l.msg === 'redis_auth_failed').length,
        (n) => n >= 1,
      );
      expect(pf.logs.filter((l) => l.msg === 'redis_auth_failed').length).toBeLessThanOrEqual(2);
    } finally {
      await suite.redis.config('SET', 'requirepass', '');
    }
    await untilReady(pf.url, 200, 10_000);
  });
});
