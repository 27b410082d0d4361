/**
 * Configuration: the only reader of the environment.
 *
 * `loadConfig(env)` validates every variable once with one zod schema keyed by the variables'
 * own names, so each problem names the variable that caused it. All problems are reported
 * together (`ConfigError.issues`); `main.ts` prints them and exits 78 (EX_CONFIG).
 * The result is deep-frozen: nothing downstream can change configuration at run time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseEnv } from 'node:util';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { defaultHeapGrowingPercent } from './heap.js';
import { bool, csv, int, oneOf, optionalInt, optionalString, optionalUrl, blankToUndefined } from './config-fields.js';

import { ACK_MODES, BUFFER_KINDS, EXPORT_MODES, LOG_LEVELS, ROLES } from './config-types.js';
import { RISK_MODELS, TIERS } from './risk-terms.js';
import { riskOffProblems, tierProblems, workerProblems } from './config-rules.js';
import { ConfigError } from './errors.js';
import { weakKeyProblems } from './config-keys.js';

// ---- the schema, keyed by variable name -------------------------------------------------------

const EnvSchema = z.object({
  HTTP_ADDR: z.preprocess(blankToUndefined, z.string().default(':8080')),
  PAYFLUX_HTTP_MAX_CONNECTIONS: int(0, 0, 1_000_000),
  PAYFLUX_HTTP_HEADERS_TIMEOUT_MS: int(10_000, 1000, 600_000),
  PAYFLUX_HTTP_REQUEST_TIMEOUT_MS: int(30_000, 1000, 3_600_000),
  PAYFLUX_HTTP_KEEPALIVE_TIMEOUT_MS: int(5000, 1000, 600_000),
  PAYFLUX_HTTP_BODY_BUDGET_BYTES: int(32 * 1_048_576, 1_048_576, 4096 * 1_048_576),
  PAYFLUX_ENV: oneOf(['dev', 'prod'] as const, 'dev'),
  PAYFLUX_ROLE: oneOf(ROLES, 'all'),
  PAYFLUX_WORKERS: int(1, 1, 64),
  PAYFLUX_BUFFER: oneOf(BUFFER_KINDS, 'auto'),
  PAYFLUX_LOG_LEVEL: oneOf(LOG_LEVELS, 'info'),
  PAYFLUX_PANIC_MODE: oneOf(['crash', 'recover'] as const, 'crash'),
  PAYFLUX_SHUTDOWN_TIMEOUT_SEC: int(30, 1, 600),
  PAYFLUX_HEAP_GROWING_PERCENT: optionalInt(0, 1000),

  PAYFLUX_API_KEYS: csv(''),
  PAYFLUX_API_KEY: optionalString(),
  PAYFLUX_REVOKED_KEYS: csv(''),
  PAYFLUX_API_KEYS_FILE: optionalString(),
  PAYFLUX_REVOKED_KEYS_FILE: optionalString(),
  PAYFLUX_RATELIMIT_RPS: int(100, 0, 10_000_000),
  PAYFLUX_RATELIMIT_BURST: int(500, 0, 10_000_000),
  PAYFLUX_RATELIMIT_MAX_KEYS: int(10_000, 1, 10_000_000),

  PAYFLUX_PROCESSORS: csv('stripe,adyen,checkout,internal'),
  PAYFLUX_MAX_BODY_BYTES: int(1_048_576, 1024, 64 * 1_048_576),
  PAYFLUX_MAX_BATCH: int(1000, 1, 100_000),
  PAYFLUX_MAX_BATCH_BODY_BYTES: int(8 * 1_048_576, 1024, 256 * 1_048_576),
  PAYFLUX_MAX_CLOCK_SKEW_SEC: int(300, 0, 86_400),
  PAYFLUX_DEDUP_WINDOW_SEC: int(86_400, 1, 30 * 86_400),
  PAYFLUX_APPEND_MAX_BATCH: int(2000, 1, 100_000),
  PAYFLUX_APPEND_MAX_PENDING: int(50_000, 1, 10_000_000),
  PAYFLUX_APPEND_TIMEOUT_MS: int(800, 50, 1000), // every ingest request is answered within 1 s
  PAYFLUX_APPEND_MAX_IN_FLIGHT: int(4, 1, 64),
  PAYFLUX_INGEST_ENABLED: bool(true),

  REDIS_ADDR: optionalString(),
  REDIS_URL: optionalString(),
  REDIS_PASSWORD: optionalString(),
  REDIS_TLS: bool(false),
  // Drop a connection whose commands got no byte back for this long (0 = never): a Redis gone
  // without closing the socket would otherwise hold it for the kernel's ~15 minutes.
  REDIS_SOCKET_TIMEOUT_MS: int(10_000, 0, 600_000),
  REDIS_CLUSTER_NODES: csv(''),
  PAYFLUX_REDIS_WAIT_REPLICAS: int(0, 0, 16),
  PAYFLUX_REDIS_WAIT_TIMEOUT_MS: int(200, 1, 900),
  PAYFLUX_LEASE_TTL_MS: int(10_000, 1000, 300_000),
  PAYFLUX_KEY_PREFIX: z.preprocess(blankToUndefined, z.string().default('payflux:')),
  PAYFLUX_STREAM: z.preprocess(blankToUndefined, z.string().default('events_stream')),
  PAYFLUX_CONSUMER_GROUP: z.preprocess(blankToUndefined, z.string().default('payment_consumers')),
  PAYFLUX_DLQ_STREAM: z.preprocess(blankToUndefined, z.string().default('events_stream_dlq')),
  PAYFLUX_STREAM_MAXLEN: int(200_000, 0, 1_000_000_000),
  PAYFLUX_RAW_EVENT_TTL_DAYS: int(7, 0, 3650),
  PAYFLUX_RETENTION_INTERVAL_MS: int(1000, 100, 3_600_000),

  PAYFLUX_CONSUMER_NAME: optionalString(),
  PAYFLUX_READ_COUNT: int(2000, 1, 100_000),
  PAYFLUX_READ_BLOCK_MS: int(1000, 1, 60_000),
  PAYFLUX_CLAIM_IDLE_MS: int(30_000, 100, 86_400_000),
  PAYFLUX_MAX_DELIVERIES: int(5, 1, 1000),
  PAYFLUX_ACK_MODE: oneOf(ACK_MODES, 'after_export'),

  PAYFLUX_EXPORT_MODE: oneOf(EXPORT_MODES, 'stdout'),
  PAYFLUX_EXPORT_FILE: optionalString(),
  PAYFLUX_EXPORT_STALE_SEC: int(30, 1, 86_400),

  PAYFLUX_RISK_SCORE_ENABLED: bool(true),
  PAYFLUX_RISK_MODEL: oneOf(RISK_MODELS, 'adaptive'),
  PAYFLUX_RISK_SCORE_WINDOW_SEC: int(300, 30, 3600),
  PAYFLUX_ALLOWED_LATENESS_SEC: int(30, 0, 3600),
  PAYFLUX_RISK_SCORE_THRESHOLDS: csv('0.3,0.6,0.8'),
  PAYFLUX_TIER: oneOf(TIERS, 'tier1'),

  PAYFLUX_PILOT_MODE: bool(false),
  PAYFLUX_WARNINGS_ENABLED: bool(true),
  PAYFLUX_WARNING_COOLDOWN_SEC: int(120, 0, 86_400),
  PAYFLUX_WARNING_RETENTION_DAYS: int(90, 1, 3650),
  PAYFLUX_WARNING_MAX: int(10_000, 10, 10_000_000),
  PAYFLUX_RISK_HISTORY_HOURS: int(24, 1, 168),
  PAYFLUX_ALERT_SLACK_WEBHOOK_URL: optionalUrl(),
  PAYFLUX_ALERT_WEBHOOK_URL: optionalUrl(),
  PAYFLUX_ALERT_MIN_BAND: oneOf(['elevated', 'high', 'critical'] as const, 'elevated'),
  PAYFLUX_ALERT_MAX_PER_HOUR: int(30, 0, 100_000),

  STRIPE_WEBHOOK_SECRET: optionalString(),
  STRIPE_API_KEY: optionalString(),
  PRICE_CENTS: int(9900, 50, 100_000_000),
  PRODUCT_NAME: z.preprocess(blankToUndefined, z.string().default('PayFlux Early Access')),
  SITE_URL: z.preprocess(blankToUndefined, z.string().default('http://localhost:8080')),
  PAYFLUX_CHECKOUT_RATELIMIT_PER_MIN: int(10, 0, 100_000),

  PAYFLUX_RISK_API_ENABLED: bool(true),
  PAYFLUX_RISK_API_KEYS: csv(''),
  PAYFLUX_TRUST_PROXY: bool(false),
  PAYFLUX_RISK_ALLOW_HOSTS: csv(''),
});

type Env = z.infer<typeof EnvSchema>;

/** Every variable PayFlux reads (the README's configuration table is pinned against it). */
export const ENV_VARS: readonly string[] = Object.keys(EnvSchema.shape);
export type EnvVar = keyof typeof EnvSchema.shape;

/** `name`'s default as it would be written in the environment; undefined where there is none. */
export function envDefault(name: EnvVar): string | undefined {
  const v: unknown = EnvSchema.shape[name].parse(undefined);
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v.join(',');
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

export type { Config } from './config-types.js';
import type { Config } from './config-types.js';

/** Parse `host:port`, `:port` or `[v6]:port`. */
export function parseHostPort(addr: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65_535) return undefined;
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

function redisUrlFrom(e: Env, problems: string[]): string {
  if (e.REDIS_URL !== undefined) {
    if (!/^rediss?:\/\//.test(e.REDIS_URL)) problems.push('REDIS_URL: must start with redis:// or rediss://');
    return e.REDIS_URL;
  }
  const addr = e.REDIS_ADDR ?? 'localhost:6379';
  const hp = parseHostPort(addr);
  if (!hp) {
    problems.push(`REDIS_ADDR: must be host:port (got "${addr}")`);
    return 'redis://localhost:6379';
  }
  const host = hp.host.includes(':') ? `[${hp.host}]` : hp.host;
  return `${e.REDIS_TLS ? 'rediss' : 'redis'}://${host}:${hp.port}`;
}

function thresholdsFrom(raw: readonly string[], problems: string[]): readonly [number, number, number] {
  const nums = raw.map(Number);
  const [a, b, c] = nums;
  if (
    nums.length !== 3 ||
    a === undefined ||
    b === undefined ||
    c === undefined ||
    nums.some((n) => !Number.isFinite(n) || n <= 0 || n > 1) ||
    !(a < b && b < c)
  ) {
    problems.push('PAYFLUX_RISK_SCORE_THRESHOLDS: must be three ascending numbers in (0, 1], e.g. 0.3,0.6,0.8');
    return [0.3, 0.6, 0.8];
  }
  return [a, b, c];
}

function apiKeysFrom(e: Env, problems: string[]): readonly string[] {
  const keys = e.PAYFLUX_API_KEYS.length > 0 ? [...e.PAYFLUX_API_KEYS] : [];
  if (e.PAYFLUX_API_KEY !== undefined && !keys.includes(e.PAYFLUX_API_KEY)) keys.push(e.PAYFLUX_API_KEY);
  if (e.PAYFLUX_ENV === 'prod') {
    problems.push(...weakKeyProblems(keys, 'PAYFLUX_API_KEYS'));
    if (keys.length === 0 && e.PAYFLUX_API_KEYS_FILE === undefined)
      problems.push('PAYFLUX_API_KEYS: at least one key is required with PAYFLUX_ENV=prod');
  }
  return keys;
}

/** The default consumer name: unique per process, stable for its lifetime. */
export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Validate `env` and build the frozen configuration.
 * @throws ConfigError listing every problem, each prefixed with the variable's name.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const problems: string[] = [];
  let parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    // Check everything else too, with defaults in place of the invalid values, so that one
    // start lists every problem, not one round of them per attempt.
    const invalid = new Set(parsed.error.issues.map((i) => String(i.path[0])));
    parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([name]) => !invalid.has(name))));
    if (!parsed.success) throw new ConfigError(problems);
  }
  const e = parsed.data;

  const http = parseHostPort(e.HTTP_ADDR);
  if (!http) problems.push(`HTTP_ADDR: must be host:port or :port (got "${e.HTTP_ADDR}")`);
  const redisUrl = redisUrlFrom(e, problems);
  const thresholds = thresholdsFrom(e.PAYFLUX_RISK_SCORE_THRESHOLDS, problems);
  const keys = apiKeysFrom(e, problems);

  if (e.PAYFLUX_PROCESSORS.length === 0) problems.push('PAYFLUX_PROCESSORS: at least one processor is required');
  if (e.PAYFLUX_EXPORT_MODE !== 'stdout' && e.PAYFLUX_EXPORT_FILE === undefined) {
    problems.push(`PAYFLUX_EXPORT_FILE: required when PAYFLUX_EXPORT_MODE=${e.PAYFLUX_EXPORT_MODE}`);
  }
  if (e.STRIPE_API_KEY !== undefined && !/^(sk|rk)_/.test(e.STRIPE_API_KEY)) {
    problems.push('STRIPE_API_KEY: must be a Stripe secret key (sk_…)');
  }
  for (const k of e.PAYFLUX_RISK_API_KEYS) {
    if (!/^pf_(test|live)_[A-Za-z0-9_-]{8,}$/.test(k)) {
      problems.push(
        'PAYFLUX_RISK_API_KEYS: each key must look like pf_test_… or pf_live_… (8+ chars after the prefix)',
      );
      break;
    }
  }
  if (e.PAYFLUX_ROLE !== 'all' && e.PAYFLUX_BUFFER === 'memory') {
    // An ingest node's memory buffer is never read by the consumer nodes, and vice versa.
    problems.push(
      `PAYFLUX_BUFFER: memory is in-process and cannot be shared; PAYFLUX_ROLE=${e.PAYFLUX_ROLE} needs redis (or auto)`,
    );
  }
  if (e.REDIS_SOCKET_TIMEOUT_MS > 0 && e.REDIS_SOCKET_TIMEOUT_MS < 1000) {
    // ioredis re-sends the commands of a dropped connection: a command that always outlasts the
    // timeout would run again and again. A healthy Redis answers PayFlux's largest in ~1 s.
    problems.push(`REDIS_SOCKET_TIMEOUT_MS: must be 0 (off) or at least 1000 (got ${e.REDIS_SOCKET_TIMEOUT_MS})`);
  }
  for (const node of e.REDIS_CLUSTER_NODES)
    if (!parseHostPort(node)) problems.push(`REDIS_CLUSTER_NODES: each node must be host:port (got "${node}")`);
  if (e.PAYFLUX_REDIS_WAIT_REPLICAS > 0 && e.PAYFLUX_REDIS_WAIT_TIMEOUT_MS >= e.PAYFLUX_APPEND_TIMEOUT_MS) {
    // The request must still be answered within PAYFLUX_APPEND_TIMEOUT_MS after the append itself.
    problems.push(
      `PAYFLUX_REDIS_WAIT_TIMEOUT_MS: ${e.PAYFLUX_REDIS_WAIT_TIMEOUT_MS} must be less than PAYFLUX_APPEND_TIMEOUT_MS (${e.PAYFLUX_APPEND_TIMEOUT_MS})`,
    );
  }
  if (e.PAYFLUX_HTTP_HEADERS_TIMEOUT_MS > e.PAYFLUX_HTTP_REQUEST_TIMEOUT_MS) {
    // Node refuses a server whose headers may take longer than the whole request.
    problems.push(
      `PAYFLUX_HTTP_HEADERS_TIMEOUT_MS: ${e.PAYFLUX_HTTP_HEADERS_TIMEOUT_MS} is more than PAYFLUX_HTTP_REQUEST_TIMEOUT_MS (${e.PAYFLUX_HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }
  if (e.PAYFLUX_HTTP_BODY_BUDGET_BYTES < e.PAYFLUX_MAX_BATCH_BODY_BYTES) {
    // A full-size batch could never be read.
    problems.push(
      `PAYFLUX_HTTP_BODY_BUDGET_BYTES: ${e.PAYFLUX_HTTP_BODY_BUDGET_BYTES} is less than PAYFLUX_MAX_BATCH_BODY_BYTES (${e.PAYFLUX_MAX_BATCH_BODY_BYTES})`,
    );
  }
  if (e.PAYFLUX_MAX_BATCH > e.PAYFLUX_APPEND_MAX_PENDING) {
    // Every full batch would be refused as overloaded: a 503 no retry can cure.
    problems.push(
      `PAYFLUX_MAX_BATCH: ${e.PAYFLUX_MAX_BATCH} is more than PAYFLUX_APPEND_MAX_PENDING (${e.PAYFLUX_APPEND_MAX_PENDING}), so a full batch could never be appended`,
    );
  }
  problems.push(...riskOffProblems(e), ...tierProblems(e), ...workerProblems(e));
  if (problems.length > 0) throw new ConfigError(problems);

  const config: Config = {
    env: e.PAYFLUX_ENV,
    role: e.PAYFLUX_ROLE,
    workers: e.PAYFLUX_WORKERS,
    logLevel: e.PAYFLUX_LOG_LEVEL,
    panicMode: e.PAYFLUX_PANIC_MODE,
    shutdownTimeoutMs: e.PAYFLUX_SHUTDOWN_TIMEOUT_SEC * 1000,
    heapGrowingPercent: e.PAYFLUX_HEAP_GROWING_PERCENT ?? defaultHeapGrowingPercent(e.PAYFLUX_ROLE),
    http: {
      ...(http ?? { host: '0.0.0.0', port: 8080 }),
      maxConnections: e.PAYFLUX_HTTP_MAX_CONNECTIONS,
      headersTimeoutMs: e.PAYFLUX_HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.PAYFLUX_HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.PAYFLUX_HTTP_KEEPALIVE_TIMEOUT_MS,
      bodyBudgetBytes: e.PAYFLUX_HTTP_BODY_BUDGET_BYTES,
    },
    auth: {
      keys,
      revokedKeys: e.PAYFLUX_REVOKED_KEYS,
      keysFile: e.PAYFLUX_API_KEYS_FILE,
      revokedKeysFile: e.PAYFLUX_REVOKED_KEYS_FILE,
      rateLimitRps: e.PAYFLUX_RATELIMIT_RPS,
      rateLimitBurst: e.PAYFLUX_RATELIMIT_BURST,
      rateLimitMaxKeys: e.PAYFLUX_RATELIMIT_MAX_KEYS,
    },
    ingest: {
      enabled: e.PAYFLUX_INGEST_ENABLED,
      processors: e.PAYFLUX_PROCESSORS,
      maxBodyBytes: e.PAYFLUX_MAX_BODY_BYTES,
      maxBatch: e.PAYFLUX_MAX_BATCH,
      maxBatchBodyBytes: e.PAYFLUX_MAX_BATCH_BODY_BYTES,
      maxClockSkewSec: e.PAYFLUX_MAX_CLOCK_SKEW_SEC,
      dedupWindowSec: e.PAYFLUX_DEDUP_WINDOW_SEC,
      appendMaxBatch: e.PAYFLUX_APPEND_MAX_BATCH,
      appendMaxPending: e.PAYFLUX_APPEND_MAX_PENDING,
      appendTimeoutMs: e.PAYFLUX_APPEND_TIMEOUT_MS,
      appendMaxInFlight: e.PAYFLUX_APPEND_MAX_IN_FLIGHT,
    },
    buffer: {
      kind: e.PAYFLUX_BUFFER,
      redis: {
        url: redisUrl,
        explicit: e.REDIS_ADDR !== undefined || e.REDIS_URL !== undefined || e.REDIS_CLUSTER_NODES.length > 0,
        password: e.REDIS_PASSWORD,
        tls: e.REDIS_TLS || redisUrl.startsWith('rediss://'),
        socketTimeoutMs: e.REDIS_SOCKET_TIMEOUT_MS,
        clusterNodes: e.REDIS_CLUSTER_NODES,
        waitReplicas: e.PAYFLUX_REDIS_WAIT_REPLICAS,
        waitTimeoutMs: e.PAYFLUX_REDIS_WAIT_TIMEOUT_MS,
      },
      keyPrefix: e.PAYFLUX_KEY_PREFIX,
      stream: e.PAYFLUX_STREAM,
      group: e.PAYFLUX_CONSUMER_GROUP,
      dlqStream: e.PAYFLUX_DLQ_STREAM,
      maxLen: e.PAYFLUX_STREAM_MAXLEN,
      rawEventTtlDays: e.PAYFLUX_RAW_EVENT_TTL_DAYS,
      retentionIntervalMs: e.PAYFLUX_RETENTION_INTERVAL_MS,
    },
    consumer: {
      name: e.PAYFLUX_CONSUMER_NAME ?? defaultConsumerName(),
      readCount: e.PAYFLUX_READ_COUNT,
      readBlockMs: e.PAYFLUX_READ_BLOCK_MS,
      claimIdleMs: e.PAYFLUX_CLAIM_IDLE_MS,
      maxDeliveries: e.PAYFLUX_MAX_DELIVERIES,
      leaseMs: e.PAYFLUX_LEASE_TTL_MS,
      ackMode: e.PAYFLUX_ACK_MODE,
    },
    export: { mode: e.PAYFLUX_EXPORT_MODE, file: e.PAYFLUX_EXPORT_FILE, staleSec: e.PAYFLUX_EXPORT_STALE_SEC },
    risk: {
      enabled: e.PAYFLUX_RISK_SCORE_ENABLED,
      model: e.PAYFLUX_RISK_MODEL,
      windowSec: e.PAYFLUX_RISK_SCORE_WINDOW_SEC,
      allowedLatenessSec: e.PAYFLUX_ALLOWED_LATENESS_SEC,
      thresholds,
      tier: e.PAYFLUX_TIER,
    },
    pilot: {
      enabled: e.PAYFLUX_PILOT_MODE,
      warningsEnabled: e.PAYFLUX_WARNINGS_ENABLED,
      cooldownSec: e.PAYFLUX_WARNING_COOLDOWN_SEC,
      retentionDays: e.PAYFLUX_WARNING_RETENTION_DAYS,
      maxWarnings: e.PAYFLUX_WARNING_MAX,
      historyHours: e.PAYFLUX_RISK_HISTORY_HOURS,
    },
    alerts: {
      slackWebhookUrl: e.PAYFLUX_ALERT_SLACK_WEBHOOK_URL,
      webhookUrl: e.PAYFLUX_ALERT_WEBHOOK_URL,
      minBand: e.PAYFLUX_ALERT_MIN_BAND,
      maxPerHour: e.PAYFLUX_ALERT_MAX_PER_HOUR,
    },
    stripe: {
      webhookSecret: e.STRIPE_WEBHOOK_SECRET,
      apiKey: e.STRIPE_API_KEY,
      priceCents: e.PRICE_CENTS,
      productName: e.PRODUCT_NAME,
      siteUrl: e.SITE_URL,
      checkoutPerMinute: e.PAYFLUX_CHECKOUT_RATELIMIT_PER_MIN,
      trustProxy: e.PAYFLUX_TRUST_PROXY,
    },
    riskApi: {
      enabled: e.PAYFLUX_RISK_API_ENABLED,
      keys: e.PAYFLUX_RISK_API_KEYS,
      trustProxy: e.PAYFLUX_TRUST_PROXY,
      allowHosts: e.PAYFLUX_RISK_ALLOW_HOSTS,
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** `.env` in the working directory, under the real environment (which wins). */
export function environment(): Record<string, string | undefined> {
  const file = '.env';
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...process.env };
}
