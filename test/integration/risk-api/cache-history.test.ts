import { describe, expect, it } from 'vitest';
import { useRedis } from '../../support/use-redis.js';
import {
  CONTACT_PAGE,
  PRIVACY_PAGE,
  REFUND_PAGE,
  TERMS_PAGE,
  homePage,
  html,
  startFixtureSite,
  type Handler,
} from './fixture-site.js';
import type { HistoryPage, TrendReport } from '../../../src/risk-api/history-store.js';
import { PRO_KEY, buildRiskApp, type RiskApp } from './harness.js';

const suite = useRedis();
let clock = 1_800_000_000_000;
const now = (): number => clock;

const COMPLETE: Record<string, Handler> = {
  '/': html(
    homePage({
      '/terms': 'Terms of Service',
      '/privacy': 'Privacy policy',
      '/refunds': 'Refunds',
      '/contact': 'Contact',
    }),
  ),
  '/terms': html(TERMS_PAGE),
  '/privacy': html(PRIVACY_PAGE),
  '/refunds': html(REFUND_PAGE),
  '/contact': html(CONTACT_PAGE),
};
/** The same shop after it took its policies down. */
const BARE: Handler = html(homePage({}));

const scan = (app: RiskApp, url: string, processor = 'stripe', industry = 'retail') =>
  app.app.inject({
    method: 'POST',
    url: '/api/v1/risk',
    headers: { 'x-payflux-key': PRO_KEY },
    payload: { url, industry, processor },
  });
const get = (app: RiskApp, url: string) =>
  app.app.inject({ method: 'GET', url, headers: { 'x-payflux-key': PRO_KEY } });

describe('cache and in-flight dedup', () => {
  it('serves a repeat scan from the cache for 24 h, keyed on url, industry and processor', async () => {
    const site = await startFixtureSite(suite, COMPLETE);
    const prefix = suite.prefix;
    const ctx = await buildRiskApp(suite, { now });
    const first = await scan(ctx, `${site.origin}/`);
    const hitsAfterFirst = site.totalHits();
    // Same question, differently spelled URL: still the same cache entry.
    const second = await scan(ctx, `${site.origin.toUpperCase().replace('HTTP', 'http')}/#top`);
    expect(second.statusCode).toBe(200);
    expect(second.headers['x-payflux-cache']).toBe('HIT');
    expect(second.json()).toEqual(first.json());
    expect(site.totalHits()).toBe(hitsAfterFirst);
    expect(ctx.events('risk_cache_hit')).toHaveLength(1);

    const otherProcessor = await scan(ctx, `${site.origin}/`, 'adyen');
    expect(otherProcessor.headers['x-payflux-cache']).toBe('MISS');
    const otherIndustry = await scan(ctx, `${site.origin}/`, 'stripe', 'travel');
    expect(otherIndustry.headers['x-payflux-cache']).toBe('MISS');
    expect(site.hitsOf('/')).toBe(3);

    const keys = await suite.redis.keys(`${prefix}risk:cache:*`);
    expect(keys).toHaveLength(3);
    const ttl = await suite.redis.ttl(keys[0]!);
    expect(ttl).toBeGreaterThan(86_000);
    expect(ttl).toBeLessThanOrEqual(86_400);
  });

  it('caches a failure for 1 h (negative cache) and an SSRF verdict for 5 s', async () => {
    const site = await startFixtureSite(suite, { '/': html('<h1>down for maintenance</h1>', 503) });
    const prefix = suite.prefix;
    const ctx = await buildRiskApp(suite, {
      now,
      resolver: async () => [{ address: '10.0.0.8', family: 4 }],
    });
    expect((await scan(ctx, `${site.origin}/`)).statusCode).toBe(502);
    site.route('/', COMPLETE['/']!); // the site recovers, but the failure is remembered
    const again = await scan(ctx, `${site.origin}/`);
    expect(again.statusCode).toBe(502);
    expect(again.json().error.code).toBe('PF_ERR_UPSTREAM');
    expect(site.hitsOf('/')).toBe(1);
    const [failureKey] = await suite.redis.keys(`${prefix}risk:cache:*`);
    const ttl = await suite.redis.ttl(failureKey!);
    expect(ttl).toBeGreaterThan(3_500);
    expect(ttl).toBeLessThanOrEqual(3_600);

    expect((await scan(ctx, 'https://private.payflux.test/')).statusCode).toBe(403);
    const keys = await suite.redis.keys(`${prefix}risk:cache:*`);
    const ttls = await Promise.all(keys.map((k) => suite.redis.pttl(k)));
    expect(ttls.filter((t) => t > 0 && t <= 5_000)).toHaveLength(1);
    const cached = await scan(ctx, 'https://private.payflux.test/');
    expect(cached.statusCode).toBe(403);
    expect(ctx.events('risk_cache_hit')).toHaveLength(2);
  });

  it('runs five concurrent identical scans once', async () => {
    const site = await startFixtureSite(suite, {
      ...COMPLETE,
      '/': (req, res) => setTimeout(() => COMPLETE['/']!(req, res), 400),
    });
    const ctx = await buildRiskApp(suite, { now });
    const results = await Promise.all(Array.from({ length: 5 }, () => scan(ctx, `${site.origin}/`)));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(site.hitsOf('/')).toBe(1);
    expect(site.hitsOf('/terms')).toBe(1);
    expect(results.map((r) => r.headers['x-payflux-cache']).sort()).toEqual([
      'JOINED',
      'JOINED',
      'JOINED',
      'JOINED',
      'MISS',
    ]);
    expect(new Set(results.map((r) => r.body)).size).toBe(1);
    const health = (await get(ctx, '/api/v1/risk/health')).json();
    expect(health.scans.total).toBe(1);
    expect(health.inflight).toEqual({ running: 0, joined: 4 });
  });
});

describe('history, trend and health', () => {
  it('keeps fresh scans per host, newest first, paged with a stable cursor', async () => {
    const site = await startFixtureSite(suite, COMPLETE);
    const ctx = await buildRiskApp(suite, { now });
    for (const p of ['pay one', 'pay two', 'pay three']) {
      clock += 60_000;
      expect((await scan(ctx, `${site.origin}/`, p)).statusCode).toBe(200);
    }
    await scan(ctx, `${site.origin}/`, 'pay three'); // a cache hit is not a new history entry
    const q = encodeURIComponent(site.origin);
    const page1 = (await get(ctx, `/api/v1/risk/history?url=${q}&limit=2`)).json<HistoryPage>();
    expect(page1.host).toBe('127.0.0.1');
    expect(page1.total).toBe(3);
    expect(page1.items.map((s) => s.processor)).toEqual(['pay three', 'pay two']);
    expect(page1.nextCursor).toMatch(/^\d+$/);
    // A scan arriving between page reads must not shift the next page.
    clock += 60_000;
    await scan(ctx, `${site.origin}/`, 'pay four');
    const page2 = (
      await get(ctx, `/api/v1/risk/history?url=${q}&limit=2&cursor=${page1.nextCursor ?? ''}`)
    ).json<HistoryPage>();
    expect(page2.items.map((s) => s.processor)).toEqual(['pay one']);
    expect(page2.nextCursor).toBeNull();
    expect(page2.items[0]?.policies.refund.status).toBe('Present');
    expect(ctx.events('risk_history_read')).toHaveLength(2);

    const bad = await get(ctx, `/api/v1/risk/history?url=${q}&cursor=abc`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('cursor');
    expect((await get(ctx, '/api/v1/risk/history?url=')).json().error.field).toBe('url');
    expect((await get(ctx, `/api/v1/risk/history?url=${q}&limit=1000`)).json().error.field).toBe('limit');
  });

  it('bounds history per host', async () => {
    const site = await startFixtureSite(suite, COMPLETE);
    const ctx = await buildRiskApp(suite, { now, limits: { historyMaxPerHost: 2 } });
    for (const p of ['a1', 'a2', 'a3']) {
      clock += 1_000;
      await scan(ctx, `${site.origin}/`, p);
    }
    const page = (await get(ctx, `/api/v1/risk/history?url=${encodeURIComponent(site.origin)}`)).json<HistoryPage>();
    expect(page.total).toBe(2);
    expect(page.items.map((s) => s.processor)).toEqual(['a3', 'a2']);
  });

  it('reports DEGRADING after the tier rises, IMPROVING after it falls, with policy surface counts', async () => {
    const site = await startFixtureSite(suite, COMPLETE);
    const ctx = await buildRiskApp(suite, { now });
    const trend = async () =>
      (await get(ctx, `/api/v1/risk/trend?url=${encodeURIComponent(site.origin)}`)).json<TrendReport>();
    expect((await get(ctx, '/api/v1/risk/trend?url=never-scanned.example')).statusCode).toBe(404);

    clock += 1_000;
    expect((await scan(ctx, `${site.origin}/`, 'v1')).json().riskTier).toBe(1);
    expect(await trend()).toMatchObject({
      trend: 'STABLE',
      latestTier: 1,
      previousTier: null,
      scans: 1,
      policySurface: { Present: 4, Weak: 0, Missing: 0 },
    });

    site.route('/', BARE);
    clock += 1_000;
    expect((await scan(ctx, `${site.origin}/`, 'v2')).json().riskTier).toBe(4);
    expect(await trend()).toMatchObject({
      trend: 'DEGRADING',
      latestTier: 4,
      previousTier: 1,
      scans: 2,
      policySurface: { Present: 0, Weak: 0, Missing: 4 },
    });

    site.route('/', COMPLETE['/']!);
    clock += 1_000;
    await scan(ctx, `${site.origin}/`, 'v3');
    expect(await trend()).toMatchObject({ trend: 'IMPROVING', latestTier: 1, previousTier: 4 });
    expect(ctx.events('risk_trend_read').length).toBeGreaterThanOrEqual(3);
  });

  it('counts scans, success rate, cache hits and misses, also as Prometheus metrics', async () => {
    const site = await startFixtureSite(suite, { ...COMPLETE, '/tiny': html('<p>hi</p>') });
    const ctx = await buildRiskApp(suite, { now });
    await scan(ctx, `${site.origin}/`); // miss, success
    await scan(ctx, `${site.origin}/`); // hit
    await scan(ctx, `${site.origin}/tiny`); // miss, 422
    await scan(ctx, 'http://10.0.0.1/'); // refused before the cache
    const res = await ctx.app.inject({
      method: 'GET',
      url: '/api/v1/risk/health',
      headers: { 'x-trace-id': 'health-check-0001' },
    });
    expect(res.headers['x-trace-id']).toBe('health-check-0001');
    expect(res.json()).toEqual({
      status: 'ok',
      ssrfBlocks: 1,
      rateLimitDenials: 0,
      authDenials: 0,
      scans: { total: 2, succeeded: 1, failed: 1, successRate: 0.5 },
      cache: { hits: 1, misses: 2, hitRate: 1 / 3 },
      inflight: { running: 0, joined: 0 },
    });
    const text = await ctx.registry.metrics();
    expect(text).toContain('payflux_risk_api_scans_total{outcome="success"} 1');
    expect(text).toContain('payflux_risk_api_scans_total{outcome="unprocessable"} 1');
    expect(text).toContain('payflux_risk_api_scan_success_ratio 0.5');
    expect(text).toContain('payflux_risk_api_cache_hits_total 1');
    expect(text).toContain('payflux_risk_api_cache_misses_total 2');
    expect(text).toContain('payflux_risk_api_ssrf_blocks_total{reason="address"} 1');
    expect(text).toContain('payflux_risk_api_requests_total{route="scan"} 4');
    expect(text).toMatch(/payflux_risk_api_scan_duration_seconds_count 2/);
  });

  it('honours a valid incoming x-trace-id, replaces an invalid one, and logs both ends of the request with it', async () => {
    const site = await startFixtureSite(suite, COMPLETE);
    const ctx = await buildRiskApp(suite, { now });
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/risk',
      headers: { 'x-payflux-key': PRO_KEY, 'x-trace-id': 'trace-0123456789' },
      payload: { url: `${site.origin}/` },
    });
    expect(res.headers['x-trace-id']).toBe('trace-0123456789');
    for (const event of ['risk_request_start', 'risk_cache_miss', 'risk_request_complete']) {
      expect(
        ctx.events(event).map((e) => e.traceId),
        event,
      ).toContain('trace-0123456789');
    }
    expect(ctx.events('risk_request_complete')[0]).toMatchObject({ status: 200, tier: 'PRO', cache: 'MISS' });
    const bad = await ctx.app.inject({
      method: 'GET',
      url: '/api/v1/risk/health',
      headers: { 'x-trace-id': 'bad id\u0001' },
    });
    expect(bad.headers['x-trace-id']).not.toBe('bad id\u0001');
    expect(bad.headers['x-trace-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(ctx.rawLogs.join('\n')).not.toContain(PRO_KEY);
  });
});
