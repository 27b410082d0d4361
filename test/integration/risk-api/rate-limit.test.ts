import { describe, expect, it } from 'vitest';
import { testPrefix } from '../../support/redis-server.js';
import { useRedis } from '../../support/use-redis.js';
import { FREE_KEY, PRO_KEY, buildRiskApp, type RiskApp } from './harness.js';

const suite = useRedis();
let clock = 1_800_000_000_000;
const now = (): number => clock;

/** A request that spends a token and then fails validation: cheap, no fetch. */
const post = (app: RiskApp, headers: Record<string, string> = {}, remoteAddress = '203.0.113.7') =>
  app.app.inject({ method: 'POST', url: '/api/v1/risk', headers, remoteAddress, payload: { url: '' } });

async function spend(app: RiskApp, n: number, headers: Record<string, string> = {}, ip?: string): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < n; i++) codes.push((await post(app, headers, ip)).statusCode);
  return codes;
}

describe('rate limits per tier', () => {
  it('ANONYMOUS: burst of 3 per client IP, then 429 with Retry-After 60; one token per minute after', async () => {
    const ctx = await buildRiskApp(suite, { now });
    expect(await spend(ctx, 3)).toEqual([400, 400, 400]);
    const denied = await post(ctx);
    expect(denied.statusCode).toBe(429);
    expect(denied.headers['retry-after']).toBe('60');
    expect(denied.json().error.code).toBe('PF_ERR_RATE_LIMITED');
    expect(denied.headers['x-trace-id']).toBeTruthy();
    // Another client address has its own bucket.
    expect((await post(ctx, {}, '198.51.100.9')).statusCode).toBe(400);
    clock += 30_000;
    const half = await post(ctx);
    expect(half.statusCode).toBe(429);
    expect(half.headers['retry-after']).toBe('30');
    clock += 30_000;
    expect(await spend(ctx, 2)).toEqual([400, 429]);
  });

  it('ANONYMOUS reads of history and trend: a burst of 3 per client IP, then 429, in buckets apart from scans; keyed reads are not limited', async () => {
    const ctx = await buildRiskApp(suite, { now });
    const read = (url: string, headers: Record<string, string> = {}) =>
      ctx.app.inject({ method: 'GET', url, headers, remoteAddress: '203.0.113.50' });
    const codes: number[] = [];
    for (const path of ['history', 'trend', 'history', 'trend'])
      codes.push((await read(`/api/v1/risk/${path}?url=shop.example.com`)).statusCode);
    // No scan of that host yet: history is an empty page, trend a 404; the fourth read is refused.
    expect(codes).toEqual([200, 404, 200, 429]);
    const denied = await read('/api/v1/risk/history?url=shop.example.com');
    expect(denied.headers['retry-after']).toBe('60');
    expect(denied.json().error.code).toBe('PF_ERR_RATE_LIMITED');
    // Scans of the same address have their own tokens.
    expect((await post(ctx, {}, '203.0.113.50')).statusCode).toBe(400);
    for (let i = 0; i < 30; i++)
      expect((await read('/api/v1/risk/history?url=shop.example.com', { 'x-payflux-key': FREE_KEY })).statusCode).toBe(
        200,
      );
  });

  it('ignores x-forwarded-for unless trustProxy is set', async () => {
    const direct = await buildRiskApp(suite, { now });
    expect(await spend(direct, 4, { 'x-forwarded-for': '192.0.2.1' })).toEqual([400, 400, 400, 429]);
    expect((await post(direct, { 'x-forwarded-for': '192.0.2.2' })).statusCode).toBe(429);
    await direct.close();

    // Under buckets of its own, as a separate deployment would be.
    const proxied = await buildRiskApp(suite, { keyPrefix: testPrefix(), now, config: { trustProxy: true } });
    expect(await spend(proxied, 4, { 'x-forwarded-for': '192.0.2.1, 10.0.0.1' })).toEqual([400, 400, 400, 429]);
    expect((await post(proxied, { 'x-forwarded-for': '192.0.2.2' })).statusCode).toBe(400);
    // What the client writes left of the proxy's entry buys no fresh bucket.
    expect((await post(proxied, { 'x-forwarded-for': '198.51.100.77, 10.0.0.1' })).statusCode).toBe(429);
  });

  it('FREE (pf_test_): burst of 10, then 429 with Retry-After 12', async () => {
    const ctx = await buildRiskApp(suite, { now });
    const codes = await spend(ctx, 11, { 'x-payflux-key': FREE_KEY });
    expect(codes.slice(0, 10).every((c) => c === 400)).toBe(true);
    expect(codes[10]).toBe(429);
    const denied = await post(ctx, { 'x-payflux-key': FREE_KEY });
    expect(denied.headers['retry-after']).toBe('12');
    // The key's bucket is not the anonymous bucket of the same address.
    expect((await post(ctx)).statusCode).toBe(400);
  });

  it('PRO (pf_live_): burst of 100, then 429 with Retry-After 1', async () => {
    const ctx = await buildRiskApp(suite, { now });
    const codes = await Promise.all(
      Array.from({ length: 101 }, () => post(ctx, { 'x-payflux-key': PRO_KEY }).then((r) => r.statusCode)),
    );
    // Concurrent requests: the Lua script hands out exactly 100 tokens.
    expect(codes.filter((c) => c === 400)).toHaveLength(100);
    expect(codes.filter((c) => c === 429)).toHaveLength(1);
    const denied = await post(ctx, { 'x-payflux-key': PRO_KEY });
    expect(denied.headers['retry-after']).toBe('1');
    expect(denied.headers['ratelimit-limit']).toBe('100');
    expect(denied.headers['ratelimit-remaining']).toBe('0');
  });

  it('logs risk_rate_limit_deny with an 8-char key id and never the key', async () => {
    const ctx = await buildRiskApp(suite, {
      now,
      limits: { tiers: { FREE: { perMinute: 1, capacity: 1 } } },
    });
    await spend(ctx, 2, { 'x-payflux-key': FREE_KEY });
    const [deny] = ctx.events('risk_rate_limit_deny');
    expect(deny).toMatchObject({ tier: 'FREE', retryAfterSec: 60 });
    expect(String(deny?.keyId)).toMatch(/^[0-9a-f]{8}$/);
    expect(typeof deny?.traceId).toBe('string');
    expect(ctx.rawLogs.join('\n')).not.toContain(FREE_KEY);
    expect(ctx.rawLogs.join('\n')).not.toContain('freekey');
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/risk/health' })).json().rateLimitDenials).toBe(1);
  });
});

describe('keys', () => {
  it('answers 401 for a key that is not configured, never treating it as anonymous', async () => {
    const ctx = await buildRiskApp(suite, { now });
    for (const key of ['pf_live_notconfigured1', 'pf_test_nope12345', 'garbage']) {
      const res = await post(ctx, { 'x-payflux-key': key });
      expect(res.statusCode, key).toBe(401);
      expect(res.json().error.code).toBe('PF_ERR_UNAUTHORIZED');
    }
    for (const url of ['/api/v1/risk/history?url=shop.example.com', '/api/v1/risk/trend?url=shop.example.com']) {
      expect(
        (await ctx.app.inject({ method: 'GET', url, headers: { 'x-payflux-key': 'pf_live_notconfigured1' } }))
          .statusCode,
      ).toBe(401);
    }
    // An unknown key spends no anonymous token.
    expect(await spend(ctx, 3)).toEqual([400, 400, 400]);
    expect(ctx.rawLogs.join('\n')).not.toContain('notconfigured');
  });
});
