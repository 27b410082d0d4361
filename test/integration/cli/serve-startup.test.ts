import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { payfluxEnv } from '../../support/payflux-env.js';
import { startPayflux } from '../../support/payflux-process.js';
import { useRedis } from '../../support/use-redis.js';
import { makeEvent } from '../../support/events.js';
import { API_KEY } from '../../support/payflux-env.js';
import { poll } from '../../support/poll.js';
import { postBatch } from '../../support/producer.js';

const suite = useRedis();
const version = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const logged = (lines: readonly string[], msg: string): Record<string, unknown> | undefined => {
  const line = lines.find((l) => l.includes(`"msg":"${msg}"`));
  return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
};

describe('payflux serve at start', () => {
  it('logs where it listens with its version and the tier by name, and a variable it does not know', async () => {
    const p = await startPayflux(suite, await payfluxEnv(suite, { PAYFLUX_TIER: 'tier2', PAYFLUX_TEIR: 'tier1' }));
    expect(logged(p.stderrLines(), 'unknown_variable_ignored')).toMatchObject({
      variable: 'PAYFLUX_TEIR',
      did_you_mean: 'PAYFLUX_TIER',
    });
    expect(logged(p.stderrLines(), 'server_listening')).toMatchObject({
      address: p.url,
      version,
      tier: 'tier2',
      tier_label: 'Revenue Protection',
    });
    expect(logged(p.stderrLines(), 'server_ready')).toMatchObject({ address: p.url, buffer: 'redis' });
  });

  it('opens its port at once while Redis is unreachable: /health 503 with the reason, ingest 503 with Retry-After', async () => {
    const env = await payfluxEnv(suite);
    await suite.server.stop();
    try {
      const p = await startPayflux(suite, env, { noWait: true });
      const health = await poll(
        '/health answering while Redis is down',
        () =>
          fetch(`${p.url}/health`).then(
            (res) => res.json().then((body: unknown) => ({ status: res.status, body })),
            () => undefined,
          ),
        (h) => h !== undefined && JSON.stringify(h.body).includes('not answering yet'),
        { context: p.stderrTail },
      );
      expect(health).toMatchObject({ status: 503, body: { status: 'unhealthy' } });
      expect(JSON.stringify(health?.body)).toContain(`Redis at redis://${suite.server.addr} is not answering yet`);
      const ready = await fetch(`${p.url}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ ready: false, starting: true, tier: { name: 'tier1' } });
      const ingest = await fetch(`${p.url}/v1/events/payment_exhaust`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(makeEvent('while-down')),
      });
      expect(ingest.status).toBe(503);
      expect(ingest.headers.get('retry-after')).toBe('1');
      expect(ingest.headers.get('x-request-id')).toMatch(/.+/);
      expect(await ingest.json()).toMatchObject({ error: { code: 'PF_ERR_BUFFER_UNAVAILABLE' } });
      expect((await fetch(`${p.url}/metrics`)).status).toBe(200);

      await suite.server.start();
      await poll(
        '/health 200 once Redis is up',
        () =>
          fetch(`${p.url}/health`).then(
            (r) => r.status,
            () => 0,
          ),
        (s) => s === 200,
        {
          timeoutMs: 15_000,
          context: p.stderrTail,
        },
      );
      expect(await postBatch(p.url, [makeEvent('after-up')])).toEqual(['after-up']);
    } finally {
      await suite.server.start().catch(() => undefined);
    }
  });
});
