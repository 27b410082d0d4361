import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { useRedis } from '../../support/use-redis.js';
import { createAlertSink, type AlertSink, type AlertSinkOptions } from '../../../src/pilot/alert-sink.js';
import { incident, transition } from './fixtures.js';
import { delay, poll } from '../../support/poll.js';

/** A real receiver on 127.0.0.1 that answers each path with planned statuses, then 200. */
interface Received {
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}
let receiver: Server;
let base: string;
let received: Received[] = [];
let plans: Record<string, number[]> = {};

const suite = useRedis();
let now = Date.parse('2024-05-01T09:00:00Z');

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ path, headers: req.headers, body: JSON.parse(data) as Record<string, unknown> });
      res.statusCode = plans[path]?.shift() ?? 200;
      res.end(res.statusCode === 200 ? 'ok' : 'failing on purpose');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  suite.defer(() => new Promise((resolve) => receiver.close(resolve)));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
beforeEach(() => {
  received = [];
  plans = {};
  now = Date.parse('2024-05-01T09:00:00Z');
});

/** A sink under the test's prefix, on a connection of its own (a restart is a new sink). */
function sink(overrides: Partial<AlertSinkOptions> = {}): { sink: AlertSink; registry: Registry } {
  const redis = new Redis(suite.server.url);
  suite.defer(() => redis.disconnect());
  const registry = new Registry();
  const s = createAlertSink({
    redis,
    keyPrefix: suite.prefix,
    slackWebhookUrl: undefined,
    webhookUrl: `${base}/hook`,
    minBand: 'elevated',
    maxPerHour: 30,
    now: () => now,
    backoffBaseMs: 1000,
    random: () => 1,
    registry,
    ...overrides,
  });
  suite.defer(() => s.close());
  return { sink: s, registry };
}

const opened = (id: string, band: 'elevated' | 'high' = 'elevated') =>
  transition('open', incident({ warning_id: id, processor_risk_band: band, peak_band: band }));

describe('alert sink', () => {
  it('retries a failing receiver with exponential backoff and then stops: delivered once', async () => {
    plans['/hook'] = [500, 503];
    const { sink: s, registry } = sink();
    expect(await s.enqueue([opened('stripe:e1')])).toEqual({ queued: 1, capped: 0, duplicates: 0 });
    expect(await s.deliverDue()).toBe(1); // 500
    expect(await s.deliverDue()).toBe(0); // not due before the 1 s backoff
    now += 1000;
    expect(await s.deliverDue()).toBe(1); // 503, next in 2 s
    now += 1999;
    expect(await s.deliverDue()).toBe(0);
    now += 1;
    expect(await s.deliverDue()).toBe(1); // 200
    now += 3_600_000;
    expect(await s.deliverDue()).toBe(0);
    expect(received.map((r) => r.path)).toEqual(['/hook', '/hook', '/hook']);
    expect(new Set(received.map((r) => r.headers['idempotency-key']))).toEqual(new Set(['stripe:e1|open']));
    expect(received[2]!.body).toMatchObject({
      type: 'payflux_incident_alert',
      alert_id: 'stripe:e1|open',
      kind: 'open',
      warning: { warning_id: 'stripe:e1', processor: 'stripe' },
    });
    const metrics = await registry.metrics();
    expect(metrics).toContain('payflux_alert_deliveries_total{destination="webhook",result="retried"} 2');
    expect(metrics).toContain('payflux_alert_deliveries_total{destination="webhook",result="delivered"} 1');
  });

  it('sends at most maxPerHour alerts per clock hour and counts the rest', async () => {
    const { sink: s, registry } = sink({ maxPerHour: 2 });
    expect(await s.enqueue([opened('stripe:a'), opened('adyen:b'), opened('checkout:c')])).toEqual({
      queued: 2,
      capped: 1,
      duplicates: 0,
    });
    await s.deliverDue();
    expect(received).toHaveLength(2);
    expect(await registry.metrics()).toContain('payflux_alerts_suppressed_total{reason="hourly_cap"} 1');
    now += 3_600_000;
    expect((await s.enqueue([opened('internal:d')])).queued).toBe(1);
    await s.deliverDue();
    expect(received).toHaveLength(3);
  });

  it('does not re-send after a restart, and delivers after a crash that happened before delivery', async () => {
    const first = sink().sink;
    await first.enqueue([opened('stripe:e1')]);
    await first.deliverDue();
    await first.enqueue([opened('stripe:e2')]); // queued, then the process dies before delivering it
    await first.close();

    const restarted = sink().sink; // new connection, new instance
    expect(await restarted.enqueue([opened('stripe:e1'), opened('stripe:e2')])).toEqual({
      queued: 0,
      capped: 0,
      duplicates: 2,
    });
    expect(await restarted.deliverDue()).toBe(1);
    expect(await restarted.deliverDue()).toBe(0);
    expect(received.map((r) => r.body.alert_id)).toEqual(['stripe:e1|open', 'stripe:e2|open']);
  });

  it('alerts on open, escalate and resolve at or above minBand, never on updates', async () => {
    const { sink: s } = sink({
      minBand: 'high',
      slackWebhookUrl: `${base}/slack`,
      webhookUrl: undefined,
    });
    const i = incident({ warning_id: 'stripe:e1' });
    const high = {
      ...i,
      processor_risk_band: 'high' as const,
      peak_band: 'high' as const,
      processor_risk_score: 0.66,
      peak_score: 0.66,
    };
    const result = await s.enqueue([
      transition('open', i),
      transition('update', { ...i, event_count: 9 }),
      transition('escalate', high),
      transition('resolve', { ...high, status: 'resolved', resolved_at: '2024-05-01T09:30:00.000Z' }),
      transition('resolve', {
        ...i,
        warning_id: 'adyen:e9',
        status: 'resolved',
        resolved_at: '2024-05-01T09:30:00.000Z',
      }),
    ]);
    expect(result.queued).toBe(2);
    await s.deliverDue();
    const texts = received.map((r) => r.body.text as string).sort();
    expect(texts).toEqual([
      'PayFlux: Risk incident on stripe escalated to high',
      'PayFlux: Risk incident on stripe resolved (peak high)',
    ]);
    expect(received.every((r) => r.path === '/slack' && Array.isArray(r.body.blocks))).toBe(true);
    expect(JSON.stringify(received[0]!.body.blocks)).toContain('high_failure_rate, retry_pressure_spike');
  });

  it('retries only the destination that failed when Slack and a webhook are both configured', async () => {
    plans['/slack'] = [502];
    const { sink: s } = sink({ slackWebhookUrl: `${base}/slack` });
    await s.enqueue([opened('stripe:e1', 'high')]);
    await s.deliverDue();
    now += 1000;
    await s.deliverDue();
    now += 10_000;
    await s.deliverDue();
    expect(received.map((r) => r.path).sort()).toEqual(['/hook', '/slack', '/slack']);
  });

  it('gives up at once on a receiver that rejects the alert (4xx), and after maxAgeMs on one that keeps failing', async () => {
    plans['/hook'] = [404, 500, 500, 500];
    const { sink: s, registry } = sink({ maxAgeMs: 2500 });
    await s.enqueue([opened('stripe:e1')]);
    await s.deliverDue();
    now += 60_000;
    expect(await s.deliverDue()).toBe(0);
    await s.enqueue([opened('stripe:e2')]);
    for (let n = 0; n < 4; n += 1) {
      await s.deliverDue();
      now += 1000 * 2 ** n;
    }
    expect(received).toHaveLength(4); // 404, then 500 at +0 s, +1 s, +3 s: expired past 2.5 s
    const metrics = await registry.metrics();
    expect(metrics).toContain('payflux_alert_deliveries_total{destination="webhook",result="failed"} 1');
    expect(metrics).toContain('payflux_alert_deliveries_total{destination="webhook",result="expired"} 1');
  });

  it('delivers in the background once started, until closed', async () => {
    const { sink: s } = sink({ now: Date.now, pollMs: 20 });
    s.start();
    await s.enqueue([opened('stripe:bg')]);
    expect(
      await poll(
        'the background delivery',
        () => received.length,
        (n) => n === 1,
        { timeoutMs: 2000, everyMs: 20 },
      ),
    ).toBe(1);
    await s.close();
    await s.enqueue([opened('stripe:after-close')]);
    await delay(100); // five poll periods: a sink still running would have delivered by now
    expect(received).toHaveLength(1);
  });
});
