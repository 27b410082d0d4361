/**
 * The SSRF table: hostile targets submitted through the real API with NO allow-list. Each must
 * be refused, and nothing may be connected to — checked three ways: undici's connect channel
 * sees nothing, a canary server on loopback sees nothing, and the resolver is asked only about
 * the names whose answers are the point of the case (never about names refused on shape alone).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../../support/use-redis.js';
import { html, startFixtureSite, type FixtureSite } from './fixture-site.js';
import { PRO_KEY, buildRiskApp, tableResolver, type RiskApp } from './harness.js';

const suite = useRedis();
let canary: FixtureSite;
let ctx: RiskApp;
const resolver = tableResolver({
  'internal.payflux.test': ['10.1.2.3'],
  'metadata.payflux.test': ['169.254.169.254'],
  // One public and one private answer: the whole name is refused, the public one never dialled.
  'mixed.payflux.test': ['93.184.216.34', '127.0.0.1'],
  'v6only.payflux.test': ['::1'],
  'mapped.payflux.test': ['::ffff:10.0.0.1'],
  'nat64.payflux.test': ['64:ff9b::a00:1'],
  'cgnat.payflux.test': ['100.64.1.1'],
  'ula.payflux.test': ['fd12:3456::1'],
  '127.0.0.1.nip.io': ['127.0.0.1'],
});

beforeAll(async () => {
  canary = await startFixtureSite(suite, { '/': html('<p>you should never see this</p>') });
  ctx = await buildRiskApp(suite, { resolver, config: { allowHosts: [] } });
});

const hostile = (): [string, 400 | 403][] => {
  const c = canary.port;
  return [
    // loopback in every spelling
    ['http://127.0.0.1/', 403],
    [`http://127.0.0.1:${c}/`, 403],
    [`http://localhost:${c}/`, 403],
    ['http://localhost/', 403],
    ['http://2130706433/', 403], // decimal
    ['http://0x7f000001/', 403], // hex
    ['http://0x7f.0x0.0x0.0x1/', 403], // dotted hex
    ['http://017700000001/', 403], // octal
    ['http://0177.0.0.1/', 403], // dotted octal
    ['http://127.1/', 403], // short form
    ['http://127.0.1/', 403],
    ['http://0x7f.1/', 403],
    ['http://0/', 403], // 0.0.0.0
    ['http://0.0.0.0/', 403],
    ['http://[::1]/', 403],
    [`http://[::1]:${c}/`, 403],
    ['http://[0:0:0:0:0:0:0:1]/', 403],
    ['http://[::]/', 403],
    ['http://[0::127.0.0.1]/', 403], // IPv4-compatible, outside 2000::/3
    // IPv4-mapped and translated IPv6
    ['http://[::ffff:127.0.0.1]/', 403],
    ['http://[::ffff:7f00:1]/', 403],
    ['http://[::ffff:10.0.0.1]/', 403],
    ['http://[::ffff:8.8.8.8]/', 403],
    ['http://[64:ff9b::7f00:1]/', 403], // NAT64 → 127.0.0.1
    ['http://[64:ff9b::a9fe:a9fe]/', 403], // NAT64 → 169.254.169.254
    ['http://[2002:7f00:1::]/', 403], // 6to4 → 127.0.0.1
    ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 403], // Teredo
    // private, metadata, CGNAT, link-local, multicast, reserved
    ['http://10.0.0.1/', 403],
    ['http://172.16.0.1/', 403],
    ['http://192.168.0.1/', 403],
    ['http://169.254.169.254/latest/meta-data/', 403],
    ['https://169.254.169.254/', 403],
    ['http://[fd00:ec2::254]/latest/meta-data/', 403],
    ['http://100.64.0.1/', 403],
    ['http://100.100.100.200/', 403],
    ['http://[fe80::1]/', 403],
    ['http://[fc00::1]/', 403],
    ['http://224.0.0.1/', 403],
    ['http://[ff02::1]/', 403],
    ['http://255.255.255.255/', 403],
    ['http://240.0.0.1/', 403],
    ['http://192.0.2.1/', 403],
    ['http://198.18.0.1/', 403],
    ['http://[2001:db8::1]/', 403],
    // schemes, ports, credentials
    ['file:///etc/passwd', 403],
    ['gopher://127.0.0.1:6379/_FLUSHALL', 403],
    ['dict://127.0.0.1:11211/stats', 403],
    ['ftp://example.com/', 403],
    ['javascript:alert(1)', 403],
    ['data:text/html,<script>alert(1)</script>', 403],
    ['https://example.com:8443/', 403],
    ['http://example.com:22/', 403],
    ['http://user:pass@example.com/', 403],
    ['https://example.com@127.0.0.1/', 403],
    // names that are local by shape, refused before any lookup
    ['http://intranet/', 403],
    ['http://foo.localhost/', 403],
    ['http://printer.local/', 403],
    ['http://metadata.google.internal/computeMetadata/v1/', 403],
    // names that resolve into private space
    ['http://internal.payflux.test/', 403],
    ['http://metadata.payflux.test/latest/meta-data/', 403],
    ['http://mixed.payflux.test/', 403],
    ['http://v6only.payflux.test/', 403],
    ['http://mapped.payflux.test/', 403],
    ['http://nat64.payflux.test/', 403],
    ['http://cgnat.payflux.test/', 403],
    ['https://ula.payflux.test/', 403],
    ['http://127.0.0.1.nip.io/', 403],
    // not URLs at all
    ['http://[::1%25lo]/', 400],
    ['http://1.1.1.1 &@127.0.0.1/', 400],
    ['http://127.0.0.1\t/', 400],
    ['http://[::1/', 400],
  ];
};

describe('SSRF table (no allow-list)', () => {
  it('refuses every hostile target and never opens a connection', async () => {
    const rows = hostile();
    expect(rows.length).toBeGreaterThanOrEqual(40);
    const connects: unknown[] = [];
    const onConnect = (msg: unknown): void => void connects.push(msg);
    subscribe('undici:client:beforeConnect', onConnect);
    const got: [string, number, string][] = [];
    try {
      for (const [url] of rows) {
        const res = await ctx.app.inject({
          method: 'POST',
          url: '/api/v1/risk',
          headers: { 'x-payflux-key': PRO_KEY },
          payload: { url, industry: 'retail', processor: 'stripe' },
        });
        got.push([url, res.statusCode, res.json<{ error?: { code?: string } }>().error?.code ?? '']);
      }
    } finally {
      unsubscribe('undici:client:beforeConnect', onConnect);
    }
    const expected = rows.map(([url, status]) => [
      url,
      status,
      status === 403 ? 'PF_ERR_FORBIDDEN' : 'PF_ERR_VALIDATION',
    ]);
    expect(got).toEqual(expected);
    expect(connects).toEqual([]);
    expect(canary.connections).toBe(0);
    expect([...new Set(resolver.calls)].sort()).toEqual([
      '127.0.0.1.nip.io',
      'cgnat.payflux.test',
      'internal.payflux.test',
      'mapped.payflux.test',
      'metadata.payflux.test',
      'mixed.payflux.test',
      'nat64.payflux.test',
      'ula.payflux.test',
      'v6only.payflux.test',
    ]);

    const refused = rows.filter(([, s]) => s === 403).length;
    expect(ctx.events('risk_ssrf_block')).toHaveLength(refused);
    const health = (await ctx.app.inject({ method: 'GET', url: '/api/v1/risk/health' })).json();
    expect(health.ssrfBlocks).toBe(refused);
    const metrics = await ctx.registry.getSingleMetricAsString('payflux_risk_api_ssrf_blocks_total');
    expect(metrics).toContain('payflux_risk_api_ssrf_blocks_total{reason="address"}');
    expect(metrics).toContain('payflux_risk_api_ssrf_blocks_total{reason="scheme"} 6');
  });
});
