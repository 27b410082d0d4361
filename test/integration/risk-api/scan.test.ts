import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { useRedis } from '../../support/use-redis.js';
import {
  CONTACT_PAGE,
  PRIVACY_PAGE,
  REFUND_PAGE,
  TERMS_PAGE,
  homePage,
  html,
  redirect,
  startFixtureSite,
} from './fixture-site.js';
import type { RiskSnapshot } from '../../../src/risk-api/types.js';
import { PRO_KEY, buildRiskApp, tableResolver, type RiskApp } from './harness.js';
import { poll } from '../../support/poll.js';

const suite = useRedis();

const scan = (app: RiskApp, url: string, extra: Record<string, string> = {}) =>
  app.app.inject({
    method: 'POST',
    url: '/api/v1/risk',
    headers: { 'x-payflux-key': PRO_KEY },
    payload: { url, industry: 'Outdoor Retail', processor: 'Stripe', ...extra },
  });

/** Every connection undici attempts in this process, wherever it goes. */
function recordConnects(): { hosts: string[]; stop(): void } {
  const hosts: string[] = [];
  const onConnect = (msg: unknown): void => {
    const p = (msg as { connectParams?: { hostname?: string; port?: string } }).connectParams;
    hosts.push(`${p?.hostname ?? '?'}:${p?.port ?? '?'}`);
  };
  subscribe('undici:client:beforeConnect', onConnect);
  return { hosts, stop: () => unsubscribe('undici:client:beforeConnect', onConnect) };
}

describe('POST /api/v1/risk against a real local site', () => {
  it('classifies linked policy pages as Present and scores a complete site LOW', async () => {
    const site = await startFixtureSite(suite, {
      '/': html(
        homePage({
          '/pages/terms-of-service': 'Terms of Service',
          '/policies/privacy': 'Privacy',
          '/refunds': 'Returns &amp; refunds',
          '/contact': 'Contact us',
          '/blog': 'Blog',
        }),
      ),
      '/pages/terms-of-service': html(TERMS_PAGE),
      '/policies/privacy': html(PRIVACY_PAGE),
      '/refunds': html(REFUND_PAGE),
      '/contact': html(CONTACT_PAGE),
    });
    const ctx = await buildRiskApp(suite);
    const res = await scan(ctx, `${site.origin}/`);
    expect(res.statusCode).toBe(200);
    const body = res.json<RiskSnapshot>();
    expect(body.url).toBe(`${site.origin}/`);
    expect(body.finalUrl).toBe(`${site.origin}/`);
    expect(body.industry).toBe('outdoor retail');
    expect(body.processor).toBe('stripe');
    expect(
      Object.fromEntries(Object.entries(body.policies).map(([k, v]) => [k, (v as { status: string }).status])),
    ).toEqual({ terms: 'Present', privacy: 'Present', refund: 'Present', contact: 'Present' });
    expect(body.policies.refund.page).toBe(`${site.origin}/refunds`);
    expect(body.policies.refund.evidence[0]).toMatchObject({ page: `${site.origin}/refunds` });
    expect(body.pagesScanned).toBe(5);
    expect(site.hitsOf('/blog')).toBe(0);
    // Only "not HTTPS" (local fixtures are plain HTTP) costs points.
    expect(body.scoreBreakdown).toEqual({ policies: 0, industry: 0, processor: 0, site: 5, total: 5 });
    expect(body.riskTier).toBe(1);
    expect(body.riskLabel).toBe('LOW');
    expect(body.stabilityScore).toBe(100);
    expect(body.findings.map((f) => f.code)).toEqual(['NO_HTTPS']);
    expect(new Date(body.analyzedAt).toISOString()).toBe(body.analyzedAt);
    expect(res.headers['x-trace-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-payflux-cache']).toBe('MISS');
  });

  it('rates an inline mention Weak and an absent policy Missing, and scores them into a higher tier', async () => {
    const site = await startFixtureSite(suite, {
      // Refund is only mentioned in passing; there is no privacy or contact anything; terms are linked.
      '/': html(homePage({ '/terms': 'Terms & Conditions' }, '<p>Unhappy? Ask about a refund at the counter.</p>')),
      '/terms': html(TERMS_PAGE),
    });
    const ctx = await buildRiskApp(suite);
    const body = (await scan(ctx, `${site.origin}/`, { industry: 'online gambling', processor: 'stripe' })).json();
    expect(body.policies.terms.status).toBe('Present');
    expect(body.policies.refund.status).toBe('Weak');
    expect(body.policies.refund.evidence).toEqual([
      expect.objectContaining({ keyword: 'refund', page: `${site.origin}/` }),
    ]);
    expect(body.policies.privacy.status).toBe('Missing');
    expect(body.policies.contact.status).toBe('Missing');
    // refund 20×0.5 + privacy 15 + contact 15 = 40; gambling 20; stripe with refund not Present 5; http 5.
    expect(body.scoreBreakdown).toEqual({ policies: 40, industry: 20, processor: 5, site: 5, total: 70 });
    expect(body.riskTier).toBe(4);
    expect(body.riskLabel).toBe('HIGH');
    // The text in <script> must not count as evidence.
    expect(body.policies.privacy.evidence).toEqual([]);
  });

  it('reads at most maxBytesPerPage of a huge page and closes the connection', async () => {
    let written = 0;
    let aborted = false;
    const site = await startFixtureSite(suite, {
      '/': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        const chunk = `<p>${'privacy policy and personal data and cookies. '.repeat(200)}</p>`;
        res.on('close', () => (aborted = !res.writableFinished));
        const pump = (): void => {
          while (written < 20 * 1024 * 1024) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      },
    });
    const ctx = await buildRiskApp(suite, { limits: { maxBytesPerPage: 64 * 1024 } });
    const res = await scan(ctx, `${site.origin}/`);
    expect(res.statusCode).toBe(200);
    const body = res.json<RiskSnapshot>();
    expect(body.meta.pages[0]).toMatchObject({ bytes: 64 * 1024, truncated: true });
    expect(body.findings.map((f) => f.code)).toContain('PAGE_TRUNCATED');
    expect(
      await poll(
        'the huge page abandoned',
        () => aborted,
        (a) => a,
        { timeoutMs: 1000 },
      ),
    ).toBe(true);
    expect(written).toBeLessThan(20 * 1024 * 1024);
  });

  it('stops at the time budget: a stalled policy page is skipped, the scan still answers', async () => {
    const site = await startFixtureSite(suite, {
      '/': html(homePage({ '/terms': 'Terms of Service', '/returns': 'Returns' })),
      '/terms': html(TERMS_PAGE),
      '/returns': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.write('<p>refund policy'); // …and never another byte
      },
    });
    const ctx = await buildRiskApp(suite, {
      limits: { scanBudgetMs: 600, requestTimeoutMs: 5_000 },
    });
    const t0 = Date.now();
    const res = await scan(ctx, `${site.origin}/`);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.meta.budgetExhausted).toBe(true);
    expect(body.meta.skippedPages).toEqual([
      { url: `${site.origin}/returns`, kinds: ['refund'], reason: 'time budget exhausted' },
    ]);
    expect(body.policies.terms.status).toBe('Present');
    expect(body.policies.refund.status).toBe('Weak'); // linked, but the page never arrived
  });

  it('answers 502 when the home page stalls past the budget', async () => {
    const site = await startFixtureSite(suite, { '/': () => undefined });
    const ctx = await buildRiskApp(suite, { limits: { scanBudgetMs: 300 } });
    const res = await scan(ctx, `${site.origin}/`);
    expect(res.statusCode).toBe(502);
    expect(res.json().error.code).toBe('PF_ERR_UPSTREAM');
  });

  it('answers 502 for a port nobody listens on and for a 500 home page', async () => {
    const site = await startFixtureSite(suite, { '/': html('<h1>oops</h1>', 500) });
    const ctx = await buildRiskApp(suite);
    const closed = await startFixtureSite(suite);
    await closed.close();
    const dead = await scan(ctx, `${closed.origin}/`);
    expect(dead.statusCode).toBe(502);
    expect(dead.json().error.code).toBe('PF_ERR_UPSTREAM');
    const broken = await scan(ctx, `${site.origin}/`);
    expect(broken.statusCode).toBe(502);
    expect(broken.json().error.message).toContain('HTTP 500');
  });

  it('answers 422 when the site has too little text', async () => {
    const site = await startFixtureSite(suite, {
      '/': html('<html><body><div id="app"></div><script src="/bundle.js"></script></body></html>'),
    });
    const ctx = await buildRiskApp(suite);
    const res = await scan(ctx, `${site.origin}/`);
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('PF_ERR_UNPROCESSABLE');
  });

  it('follows same-site redirects (re-checked) and reports the final URL', async () => {
    const site = await startFixtureSite(suite, {
      '/': redirect('/home'),
      '/home': redirect('/store/', 301),
      '/store/': html(homePage({ '/terms': 'Terms' })),
      '/terms': html(TERMS_PAGE),
    });
    const ctx = await buildRiskApp(suite);
    const body = (await scan(ctx, `${site.origin}/`)).json();
    expect(body.finalUrl).toBe(`${site.origin}/store/`);
    expect(body.meta.redirects).toBe(2);
  });

  it('gives up after 5 redirects', async () => {
    const site = await startFixtureSite(suite);
    for (let i = 0; i < 7; i++) site.route(`/r${i}`, redirect(`/r${i + 1}`));
    const ctx = await buildRiskApp(suite);
    const res = await scan(ctx, `${site.origin}/r0`);
    expect(res.statusCode).toBe(502);
    expect(res.json().error.message).toContain('more than 5 redirects');
    expect(site.totalHits()).toBe(6);
  });

  it('refuses a redirect into private space without connecting to it', async () => {
    const site = await startFixtureSite(suite, {
      '/': redirect('http://10.0.0.1/admin'),
      '/meta': redirect('http://169.254.169.254/latest/meta-data/'),
      '/v6': redirect('http://[fd00:ec2::254]/'),
      '/name': redirect('http://internal.payflux.test/'),
    });
    const resolver = tableResolver({ 'internal.payflux.test': ['192.168.1.20'] });
    const ctx = await buildRiskApp(suite, { resolver });
    const connects = recordConnects();
    try {
      for (const path of ['/', '/meta', '/v6', '/name']) {
        const res = await scan(ctx, `${site.origin}${path}`);
        expect(res.statusCode, path).toBe(403);
        expect(res.json().error.code).toBe('PF_ERR_FORBIDDEN');
      }
    } finally {
      connects.stop();
    }
    // Every connection went to the fixture; none to 10.0.0.1, 169.254.169.254, fd00:ec2::254 or 192.168.1.20.
    expect(connects.hosts.length).toBeGreaterThanOrEqual(4);
    expect(connects.hosts.every((h) => h === `127.0.0.1:${site.port}`)).toBe(true);
    expect(resolver.calls).toEqual(['internal.payflux.test']);
    expect(ctx.events('risk_ssrf_block')).toHaveLength(4);
  });

  it('connects to the address the guard checked, never re-resolving (DNS pinning)', async () => {
    const site = await startFixtureSite(suite, {
      '/': html(homePage({ '/terms': 'Terms of Service' })),
      '/terms': html(TERMS_PAGE),
    });
    // The name is unknown to real DNS: only the guard's answer can get a connection there. A
    // second lookup (rebinding) would fail the scan instead of silently going elsewhere.
    let calls = 0;
    const resolver = async (host: string) => {
      calls += 1;
      expect(host).toBe('shop.payflux.test');
      if (calls > 1) throw Object.assign(new Error('rebinding attempt'), { code: 'ENOTFOUND' });
      return [{ address: '127.0.0.1', family: 4 as const }];
    };
    const ctx = await buildRiskApp(suite, {
      resolver,
      config: { allowHosts: ['shop.payflux.test'] },
    });
    const res = await scan(ctx, `http://shop.payflux.test:${site.port}/`);
    expect(res.statusCode).toBe(200);
    expect(res.json().pagesScanned).toBe(2);
    expect(calls).toBe(1);
  });
});
