import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../../../src/config.js';
import { connectBuffer } from '../../../src/buffer/connect.js';
import { freePort } from '../../support/redis-server.js';
import { post, startTestApp, useApp } from '../../support/app.js';
import { event } from '../../support/events.js';
import { defined, poll } from '../../support/poll.js';

const suite = useApp({ PAYFLUX_RATELIMIT_RPS: '0' }, { appendonly: true });

describe('when Redis goes away', () => {
  it('answers 503 with Retry-After within a second, then accepts again by itself when Redis is back', async () => {
    const before = event();
    expect((await post(`${suite.app.url}/v1/events/payment_exhaust`, before)).status).toBe(202);

    await suite.server.stop();
    const during = event();
    const started = Date.now();
    const res = await post(`${suite.app.url}/v1/events/payment_exhaust`, during);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({ error: { code: 'PF_ERR_BUFFER_UNAVAILABLE' } });
    const health = await fetch(`${suite.app.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unhealthy' });

    await suite.server.start();
    // The client retries the refused event: it must be accepted (no dedup mark left behind).
    const retried = await poll(
      'ingest to recover',
      () => post(`${suite.app.url}/v1/events/payment_exhaust`, during),
      (r) => r.status === 202,
      { timeoutMs: 10_000 },
    );
    expect(retried.headers.get('payflux-duplicate')).toBeNull();
    // AOF on: the event accepted before the outage survived it, and both get exported.
    await poll(
      'both exported',
      () => [before, during].every((e) => suite.app.lines.some((l) => l.event_id === e.event_id)),
      (both) => both,
      { timeoutMs: 10_000 },
    );
  });

  it('leaves no dedup mark when the append itself fails inside Redis', async () => {
    const e = event();
    // Make XADD fail inside the script: the stream key temporarily holds a string.
    await suite.redis.rename(suite.app.stream, `${suite.app.stream}:aside`);
    await suite.redis.set(suite.app.stream, 'not a stream');
    const res = await post(`${suite.app.url}/v1/events/payment_exhaust`, e);
    expect(res.status).toBe(503);
    await suite.redis.del(suite.app.stream);
    await suite.redis.rename(`${suite.app.stream}:aside`, suite.app.stream);
    const retry = await post(`${suite.app.url}/v1/events/payment_exhaust`, e);
    expect(retry.status).toBe(202);
    expect(retry.headers.get('payflux-duplicate')).toBeNull();
  });
});

describe('choosing the buffer', () => {
  it('never falls back silently when REDIS_ADDR is set but unreachable: it keeps retrying', async () => {
    const port = await freePort();
    const config = loadConfig({ REDIS_ADDR: `127.0.0.1:${port}`, PAYFLUX_LOG_LEVEL: 'silent' });
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => warnings.push(s) });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 1200);
    await expect(connectBuffer(config, { logger, signal: abort.signal })).rejects.toThrow(
      'shutdown before Redis became reachable',
    );
    expect(warnings.filter((w) => w.includes('redis_unreachable')).length).toBeGreaterThanOrEqual(2);
  });

  it('uses the memory buffer when asked, and says so in /ready', async () => {
    const mem = await startTestApp(suite, { PAYFLUX_BUFFER: 'memory' });
    const e = event();
    expect((await post(`${mem.url}/v1/events/payment_exhaust`, e)).status).toBe(202);
    expect((await post(`${mem.url}/v1/events/payment_exhaust`, e)).headers.get('payflux-duplicate')).toBe('true');
    expect(await (await fetch(`${mem.url}/ready`)).json()).toMatchObject({ buffer: 'memory', ready: true });
    await poll('the export from the memory buffer', () => mem.lines.find((l) => l.event_id === e.event_id), defined, {
      timeoutMs: 3000,
    });
  });

  it('refuses to start on a stream key of the wrong type, saying which key', async () => {
    const prefix = suite.prefix;
    await suite.redis.set(`${prefix}events`, 'x');
    const config = loadConfig({ REDIS_ADDR: suite.server.addr, PAYFLUX_STREAM: `${prefix}events` });
    await expect(connectBuffer(config, { logger: pino({ level: 'silent' }) })).rejects.toThrow(
      `Redis key "${prefix}events" exists and is not a stream`,
    );
  });

  it('refuses to start on a dead-letter key of the wrong type, which would stall every ack', async () => {
    const prefix = suite.prefix;
    await suite.redis.hset(`${prefix}dlq`, 'x', '1');
    const config = loadConfig({
      REDIS_ADDR: suite.server.addr,
      PAYFLUX_STREAM: `${prefix}events`,
      PAYFLUX_DLQ_STREAM: `${prefix}dlq`,
    });
    await expect(connectBuffer(config, { logger: pino({ level: 'silent' }) })).rejects.toThrow(
      `Redis key "${prefix}dlq" exists and is not a stream (hash): rename it or set PAYFLUX_DLQ_STREAM`,
    );
  });
});
