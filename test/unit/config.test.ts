import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadConfig, parseHostPort } from '../../src/config.js';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  return [];
};

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.http).toEqual({
      host: '0.0.0.0',
      port: 8080,
      maxConnections: 0,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5000,
      bodyBudgetBytes: 32 * 1_048_576,
    });
    expect(c.role).toBe('all');
    expect(c.buffer.kind).toBe('auto');
    expect(c.buffer.redis).toMatchObject({ url: 'redis://localhost:6379', explicit: false, tls: false });
    expect(c.buffer.stream).toBe('events_stream');
    expect(c.buffer.group).toBe('payment_consumers');
    expect(c.buffer.dlqStream).toBe('events_stream_dlq');
    expect(c.buffer.maxLen).toBe(200_000);
    expect(c.buffer.rawEventTtlDays).toBe(7);
    expect(c.auth).toMatchObject({ keys: [], rateLimitRps: 100, rateLimitBurst: 500 });
    expect(c.ingest).toMatchObject({
      processors: ['stripe', 'adyen', 'checkout', 'internal'],
      maxBodyBytes: 1_048_576,
      maxBatch: 1000,
      maxClockSkewSec: 300,
      dedupWindowSec: 86_400,
    });
    expect(c.consumer).toMatchObject({
      readCount: 2000,
      readBlockMs: 1000,
      claimIdleMs: 30_000,
      maxDeliveries: 5,
      ackMode: 'after_export',
    });
    expect(c.export).toEqual({ mode: 'stdout', file: undefined, staleSec: 30 });
    expect(c.risk).toEqual({
      enabled: true,
      model: 'adaptive',
      windowSec: 300,
      allowedLatenessSec: 30,
      thresholds: [0.3, 0.6, 0.8],
      tier: 'tier1',
    });
    expect(c.pilot).toMatchObject({ enabled: false, warningsEnabled: true, cooldownSec: 120, retentionDays: 90 });
    expect(c.alerts).toMatchObject({ minBand: 'elevated', maxPerHour: 30 });
    expect(c.stripe).toMatchObject({ apiKey: undefined, priceCents: 9900, productName: 'PayFlux Early Access' });
    expect(c.consumer.name).toMatch(/^.+-\d+-[0-9a-f]{6}$/);
    expect(c.heapGrowingPercent).toBe(100);
    expect(c.buffer.redis.socketTimeoutMs).toBe(10_000);
  });

  it('takes 0 for no Redis socket timeout and refuses one under a second', () => {
    expect(loadConfig({ REDIS_SOCKET_TIMEOUT_MS: '0' }).buffer.redis.socketTimeoutMs).toBe(0);
    for (const bad of ['-1', '1.5', 'never', '1', '999'])
      expect(problems({ REDIS_SOCKET_TIMEOUT_MS: bad })).toEqual([expect.stringMatching(/^REDIS_SOCKET_TIMEOUT_MS: /)]);
    expect(loadConfig({ REDIS_SOCKET_TIMEOUT_MS: '1000' }).buffer.redis.socketTimeoutMs).toBe(1000);
  });

  it('takes 0 for V8’s own heap growing and refuses a negative or fractional percentage', () => {
    expect(loadConfig({ PAYFLUX_HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
    for (const bad of ['-1', '2.5', 'lots'])
      expect(problems({ PAYFLUX_HEAP_GROWING_PERCENT: bad })).toEqual([
        expect.stringMatching(/^PAYFLUX_HEAP_GROWING_PERCENT: /),
      ]);
  });

  it('lets the heap of a process that only consumes grow further unless the percentage is set', () => {
    const redis = { REDIS_ADDR: '127.0.0.1:6379' };
    expect(loadConfig({ ...redis, PAYFLUX_ROLE: 'consumer' }).heapGrowingPercent).toBe(300);
    expect(loadConfig({ ...redis, PAYFLUX_ROLE: 'ingest' }).heapGrowingPercent).toBe(100);
    expect(loadConfig({ ...redis, PAYFLUX_ROLE: 'all' }).heapGrowingPercent).toBe(100);
    expect(
      loadConfig({ ...redis, PAYFLUX_ROLE: 'consumer', PAYFLUX_HEAP_GROWING_PERCENT: '100' }).heapGrowingPercent,
    ).toBe(100);
  });

  it('takes 0 days of raw-event retention for no purge by age', () => {
    expect(loadConfig({ PAYFLUX_RAW_EVENT_TTL_DAYS: '0' }).buffer.rawEventTtlDays).toBe(0);
    expect(problems({ PAYFLUX_RAW_EVENT_TTL_DAYS: '-1' })).toEqual([
      expect.stringMatching(/^PAYFLUX_RAW_EVENT_TTL_DAYS: /),
    ]);
  });

  it('turns risk scoring off, and refuses the warnings and alerts that would then never fire', () => {
    expect(loadConfig({ PAYFLUX_RISK_SCORE_ENABLED: 'false' }).risk.enabled).toBe(false);
    const off = { PAYFLUX_RISK_SCORE_ENABLED: 'false', PAYFLUX_PILOT_MODE: 'true', PAYFLUX_TIER: 'tier2' };
    expect(problems(off)).toEqual([
      expect.stringMatching(/^PAYFLUX_WARNINGS_ENABLED: .*PAYFLUX_RISK_SCORE_ENABLED=false/),
    ]);
    expect(loadConfig({ ...off, PAYFLUX_WARNINGS_ENABLED: 'false' }).pilot.enabled).toBe(true);
    expect(
      problems({ ...off, PAYFLUX_WARNINGS_ENABLED: 'false', PAYFLUX_ALERT_WEBHOOK_URL: 'https://alerts.example/x' }),
    ).toEqual([expect.stringMatching(/^PAYFLUX_ALERT_WEBHOOK_URL: /)]);
  });

  it('refuses alert URLs on tier 1, naming the tier; takes them on tier 2', () => {
    const urls = {
      PAYFLUX_ALERT_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x',
      PAYFLUX_ALERT_WEBHOOK_URL: 'https://alerts.example/payflux',
    };
    expect(problems(urls)).toEqual([
      expect.stringMatching(
        /^PAYFLUX_ALERT_SLACK_WEBHOOK_URL: alerts are a tier 2 feature \(Revenue Protection\); PAYFLUX_TIER=tier1 \(Processor Exposure Monitor\)/,
      ),
      expect.stringMatching(/^PAYFLUX_ALERT_WEBHOOK_URL: alerts are a tier 2 feature/),
    ]);
    expect(loadConfig({ ...urls, PAYFLUX_TIER: 'tier2' }).alerts.webhookUrl).toBe(urls.PAYFLUX_ALERT_WEBHOOK_URL);
  });

  it('returns a deeply frozen object', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.buffer.redis)).toBe(true);
    expect(Object.isFrozen(c.ingest.processors)).toBe(true);
    expect(() => {
      (c.http as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('merges PAYFLUX_API_KEYS and PAYFLUX_API_KEY and reads revoked keys', () => {
    const c = loadConfig({
      PAYFLUX_API_KEYS: 'a-key, b-key ,',
      PAYFLUX_API_KEY: 'c-key',
      PAYFLUX_REVOKED_KEYS: 'a-key',
    });
    expect(c.auth.keys).toEqual(['a-key', 'b-key', 'c-key']);
    expect(c.auth.revokedKeys).toEqual(['a-key']);
  });

  it('accepts true/false/1/0 for booleans, any case', () => {
    expect(loadConfig({ PAYFLUX_PILOT_MODE: 'TRUE' }).pilot.enabled).toBe(true);
    expect(loadConfig({ PAYFLUX_PILOT_MODE: '1' }).pilot.enabled).toBe(true);
    expect(loadConfig({ PAYFLUX_WARNINGS_ENABLED: '0' }).pilot.warningsEnabled).toBe(false);
    expect(problems({ PAYFLUX_PILOT_MODE: 'yes' })).toEqual(['PAYFLUX_PILOT_MODE: must be one of true, false, 1, 0']);
  });

  it('builds the Redis URL from REDIS_ADDR and REDIS_TLS, and marks it explicit', () => {
    const c = loadConfig({ REDIS_ADDR: '10.1.2.3:6380', REDIS_TLS: 'true', REDIS_PASSWORD: 's3cret' });
    expect(c.buffer.redis).toEqual({
      url: 'rediss://10.1.2.3:6380',
      explicit: true,
      password: 's3cret',
      tls: true,
      socketTimeoutMs: 10_000,
      clusterNodes: [],
      waitReplicas: 0,
      waitTimeoutMs: 200,
    });
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379/2' }).buffer.redis.url).toBe('redis://cache:6379/2');
  });

  it.each([
    ['HTTP_ADDR', 'nonsense', 'HTTP_ADDR: must be host:port'],
    ['REDIS_ADDR', 'no-port', 'REDIS_ADDR: must be host:port'],
    ['REDIS_URL', 'http://x', 'REDIS_URL: must start with redis://'],
    ['PAYFLUX_RATELIMIT_RPS', '-1', 'PAYFLUX_RATELIMIT_RPS: must be ≥ 0'],
    ['PAYFLUX_READ_COUNT', 'ten', 'PAYFLUX_READ_COUNT: must be a whole number'],
    ['PAYFLUX_ACK_MODE', 'never', 'PAYFLUX_ACK_MODE: must be one of after_export, before_export'],
    ['PAYFLUX_BUFFER', 'disk', 'PAYFLUX_BUFFER: must be one of auto, redis, memory'],
    ['PAYFLUX_ROLE', 'both', 'PAYFLUX_ROLE: must be one of all, ingest, consumer'],
    ['PAYFLUX_RISK_SCORE_THRESHOLDS', '0.6,0.3,0.8', 'PAYFLUX_RISK_SCORE_THRESHOLDS: must be three ascending numbers'],
    ['PAYFLUX_RISK_MODEL', 'ml', 'PAYFLUX_RISK_MODEL: must be one of adaptive, classic'],
    ['PAYFLUX_TIER', 'tier3', 'PAYFLUX_TIER: must be one of tier1, tier2'],
    ['PAYFLUX_EXPORT_MODE', 'file', 'PAYFLUX_EXPORT_FILE: required when PAYFLUX_EXPORT_MODE=file'],
    ['PAYFLUX_ALERT_WEBHOOK_URL', 'ftp://x', 'PAYFLUX_ALERT_WEBHOOK_URL: must be an http(s) URL'],
    ['STRIPE_API_KEY', 'pk_live_abc', 'STRIPE_API_KEY: must be a Stripe secret key'],
    ['PAYFLUX_RISK_API_KEYS', 'nope', 'PAYFLUX_RISK_API_KEYS: each key must look like pf_test_'],
    ['PAYFLUX_MAX_DELIVERIES', '0', 'PAYFLUX_MAX_DELIVERIES: must be ≥ 1'],
    ['PAYFLUX_APPEND_TIMEOUT_MS', '5000', 'PAYFLUX_APPEND_TIMEOUT_MS: must be ≤ 1000'],
  ])('names %s when it is invalid (%s)', (name, value, message) => {
    const p = problems({ [name]: value });
    expect(p).toHaveLength(1);
    expect(p[0]).toContain(message);
  });

  it('refuses the in-process memory buffer with split roles, and a batch larger than the append queue', () => {
    expect(problems({ PAYFLUX_ROLE: 'ingest', PAYFLUX_BUFFER: 'memory' })).toEqual([
      expect.stringContaining('PAYFLUX_BUFFER: memory is in-process'),
    ]);
    expect(problems({ PAYFLUX_ROLE: 'consumer', PAYFLUX_BUFFER: 'memory' })).toHaveLength(1);
    expect(problems({ PAYFLUX_ROLE: 'all', PAYFLUX_BUFFER: 'memory' })).toEqual([]);
    expect(problems({ PAYFLUX_MAX_BATCH: '5000', PAYFLUX_APPEND_MAX_PENDING: '4000' })).toEqual([
      expect.stringContaining('PAYFLUX_MAX_BATCH: 5000 is more than PAYFLUX_APPEND_MAX_PENDING'),
    ]);
    expect(problems({ PAYFLUX_MAX_BATCH: '4000', PAYFLUX_APPEND_MAX_PENDING: '4000' })).toEqual([]);
  });

  it('refuses several worker processes on the memory buffer, or consumer processes sharing stdout', () => {
    expect(problems({ PAYFLUX_WORKERS: '2', PAYFLUX_BUFFER: 'memory' })).toEqual([
      expect.stringContaining('PAYFLUX_BUFFER: memory is in-process and cannot be shared by PAYFLUX_WORKERS=2'),
    ]);
    for (const mode of ['stdout', 'both'])
      expect(
        problems({
          PAYFLUX_WORKERS: '3',
          PAYFLUX_ROLE: 'consumer',
          PAYFLUX_EXPORT_MODE: mode,
          PAYFLUX_EXPORT_FILE: '/tmp/x',
        }),
      ).toEqual([expect.stringContaining(`PAYFLUX_EXPORT_MODE: ${mode} writes to stdout, which PAYFLUX_WORKERS=3`)]);
    expect(
      problems({
        PAYFLUX_WORKERS: '3',
        PAYFLUX_ROLE: 'consumer',
        PAYFLUX_EXPORT_MODE: 'file',
        PAYFLUX_EXPORT_FILE: '/tmp/x',
      }),
    ).toEqual([]);
    expect(problems({ PAYFLUX_WORKERS: '1', PAYFLUX_ROLE: 'consumer' })).toEqual([]);
    expect(problems({ PAYFLUX_WORKERS: '2', PAYFLUX_EXPORT_MODE: 'both', PAYFLUX_EXPORT_FILE: '/tmp/x' })).toEqual([]);
    expect(problems({ PAYFLUX_WORKERS: '2', PAYFLUX_ROLE: 'ingest' })).toEqual([]);
    expect(problems({ PAYFLUX_WORKERS: '1', PAYFLUX_BUFFER: 'memory' })).toEqual([]);
    expect(problems({ PAYFLUX_WORKERS: '0' })).toEqual([expect.stringContaining('PAYFLUX_WORKERS')]);
  });

  it('lists every problem at once', () => {
    const p = problems({ PAYFLUX_READ_COUNT: 'x', PAYFLUX_ACK_MODE: 'x', PAYFLUX_TIER: 'x' });
    expect(p.map((m) => m.split(':')[0]).sort()).toEqual(['PAYFLUX_ACK_MODE', 'PAYFLUX_READ_COUNT', 'PAYFLUX_TIER']);
    // Invalid values and checks that need the parsed configuration, in one list.
    const mixed = problems({ PAYFLUX_TIER: 'x', HTTP_ADDR: 'nonsense', PAYFLUX_EXPORT_MODE: 'file' });
    expect(mixed.map((m) => m.split(':')[0]).sort()).toEqual(['HTTP_ADDR', 'PAYFLUX_EXPORT_FILE', 'PAYFLUX_TIER']);
  });

  it('refuses short and placeholder keys in prod, without echoing them', () => {
    const p = problems({ PAYFLUX_ENV: 'prod', PAYFLUX_API_KEYS: 'short-key,changeme' });
    expect(p).toHaveLength(2);
    expect(p.join(' ')).not.toContain('short-key');
    expect(p.join(' ')).not.toContain('changeme');
    expect(problems({ PAYFLUX_ENV: 'prod' })).toEqual([
      'PAYFLUX_API_KEYS: at least one key is required with PAYFLUX_ENV=prod',
    ]);
    expect(problems({ PAYFLUX_ENV: 'prod', PAYFLUX_API_KEYS: 'k_7f3a9c2e1b8d4f60a5' })).toEqual([]);
    // Long placeholders too, however they are spelled: the README's own example key among them.
    for (const key of [
      'dev-key-change-me-0001',
      'YOUR_API_KEY_HERE_1234',
      'payflux-example-key-0001',
      'Replace.Me.With.A.Real.Key',
    ]) {
      expect(problems({ PAYFLUX_ENV: 'prod', PAYFLUX_API_KEYS: key }), key).toEqual([
        'PAYFLUX_API_KEYS: a placeholder key is not allowed with PAYFLUX_ENV=prod',
      ]);
    }
  });

  it('treats blank values as unset', () => {
    expect(loadConfig({ PAYFLUX_READ_COUNT: '  ', REDIS_ADDR: '' }).consumer.readCount).toBe(2000);
    expect(loadConfig({ REDIS_ADDR: '' }).buffer.redis.explicit).toBe(false);
  });
});

describe('parseHostPort', () => {
  it.each([
    [':8080', { host: '0.0.0.0', port: 8080 }],
    ['127.0.0.1:9', { host: '127.0.0.1', port: 9 }],
    ['[::1]:6379', { host: '::1', port: 6379 }],
    ['redis:6379', { host: 'redis', port: 6379 }],
  ])('parses %s', (addr, want) => expect(parseHostPort(addr)).toEqual(want));

  it.each(['8080', 'host:', 'host:99999', ''])('rejects %j', (addr) => expect(parseHostPort(addr)).toBeUndefined());
});

describe('the README configuration table', () => {
  it('documents every variable PayFlux reads, and no other', async () => {
    const { readFileSync } = await import('node:fs');
    const { ENV_VARS } = await import('../../src/config.js');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Payment events'));
    // Rows of the table: `| `NAME` |` (possibly several names in one row, separated by ` / `).
    const rows = section.split('\n').filter((l) => l.startsWith('| `'));
    const documented = new Set(
      rows.flatMap((r) => [...(r.split(' | ')[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1])),
    );
    expect([...ENV_VARS].filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented].filter((v) => !ENV_VARS.includes(v!))).toEqual([]);
  });
});
