/**
 * The validated configuration's shape: what `loadConfig` returns, deep-frozen. Grouped by the
 * part of PayFlux that reads it.
 */
import type { Band, RiskModelName, Tier } from './risk-terms.js';

export const BUFFER_KINDS = ['auto', 'redis', 'memory'] as const;
export const ROLES = ['all', 'ingest', 'consumer'] as const;
export const ACK_MODES = ['after_export', 'before_export'] as const;
export const EXPORT_MODES = ['stdout', 'file', 'both'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Set by the supervisor in the consumer worker of a consumer node that serves the ops port
 * (`/ready`, `/metrics`) for them all; the other consumer workers open no port.
 */
export const WORKER_LISTENS_VAR = 'PAYFLUX_WORKER_LISTENS';

export type BufferKind = (typeof BUFFER_KINDS)[number];
export type Role = (typeof ROLES)[number];
export type AckMode = (typeof ACK_MODES)[number];
export type ExportMode = (typeof EXPORT_MODES)[number];

export interface Config {
  readonly env: 'dev' | 'prod';
  readonly role: Role;
  /** Worker processes under one supervising primary (src/supervisor.ts); 1: this process does it all. */
  readonly workers: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly panicMode: 'crash' | 'recover';
  readonly shutdownTimeoutMs: number;
  /** V8's old-generation growing factor, 1 + p/100 (0: V8's own heuristic). See `main.ts`. */
  readonly heapGrowingPercent: number;
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** Open connections at once; 0: the descriptor limit less a reserve (http/connection-limits.ts). */
    readonly maxConnections: number;
    readonly headersTimeoutMs: number;
    /** The whole request, headers and body. */
    readonly requestTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    /** Request-body bytes in flight at once, over every request (http/body-budget.ts). */
    readonly bodyBudgetBytes: number;
  };
  readonly auth: {
    readonly keys: readonly string[];
    readonly revokedKeys: readonly string[];
    /** PAYFLUX_API_KEYS_FILE / PAYFLUX_REVOKED_KEYS_FILE: read at start and on SIGHUP (http/key-files.ts). */
    readonly keysFile: string | undefined;
    readonly revokedKeysFile: string | undefined;
    readonly rateLimitRps: number;
    readonly rateLimitBurst: number;
    readonly rateLimitMaxKeys: number;
  };
  readonly ingest: {
    readonly enabled: boolean;
    readonly processors: readonly string[];
    readonly maxBodyBytes: number;
    readonly maxBatch: number;
    readonly maxBatchBodyBytes: number;
    readonly maxClockSkewSec: number;
    readonly dedupWindowSec: number;
    readonly appendMaxBatch: number;
    readonly appendMaxPending: number;
    readonly appendTimeoutMs: number;
    readonly appendMaxInFlight: number;
  };
  readonly buffer: {
    readonly kind: BufferKind;
    /** Where Redis is; `explicit` is false when neither REDIS_ADDR nor REDIS_URL was set. */
    readonly redis: {
      readonly url: string;
      readonly explicit: boolean;
      readonly password: string | undefined;
      readonly tls: boolean;
      /** Drop a connection whose commands got no answer for this long (ms); 0 = never. */
      readonly socketTimeoutMs: number;
      /** REDIS_CLUSTER_NODES: seed nodes (host:port) of a Redis Cluster; empty = standalone at `url`. */
      readonly clusterNodes: readonly string[];
      /** Replicas that must acknowledge an append before ingest answers 2xx (WAIT); 0 = off. */
      readonly waitReplicas: number;
      readonly waitTimeoutMs: number;
    };
    readonly keyPrefix: string;
    readonly stream: string;
    readonly group: string;
    readonly dlqStream: string;
    readonly maxLen: number;
    /** Trim acknowledged entries older than this many days; 0 = never by age. */
    readonly rawEventTtlDays: number;
    readonly retentionIntervalMs: number;
  };
  readonly consumer: {
    readonly name: string;
    readonly readCount: number;
    readonly readBlockMs: number;
    readonly claimIdleMs: number;
    readonly maxDeliveries: number;
    /** PAYFLUX_LEASE_TTL_MS: a partition's lease (and a consumer's membership) lives this long unrenewed. */
    readonly leaseMs: number;
    readonly ackMode: AckMode;
  };
  readonly export: {
    readonly mode: ExportMode;
    readonly file: string | undefined;
    readonly staleSec: number;
  };
  readonly risk: {
    /** PAYFLUX_RISK_SCORE_ENABLED: false exports events without risk or tier fields. */
    readonly enabled: boolean;
    readonly model: RiskModelName;
    readonly windowSec: number;
    readonly allowedLatenessSec: number;
    /** [elevated, high, critical] lower bounds, ascending. */
    readonly thresholds: readonly [number, number, number];
    readonly tier: Tier;
  };
  readonly pilot: {
    readonly enabled: boolean;
    readonly warningsEnabled: boolean;
    readonly cooldownSec: number;
    readonly retentionDays: number;
    readonly maxWarnings: number;
    /** Per-processor risk history kept for the dashboard (10 s slots). */
    readonly historyHours: number;
  };
  readonly alerts: {
    readonly slackWebhookUrl: string | undefined;
    readonly webhookUrl: string | undefined;
    readonly minBand: Exclude<Band, 'low'>;
    readonly maxPerHour: number;
  };
  readonly stripe: {
    readonly webhookSecret: string | undefined;
    readonly apiKey: string | undefined;
    readonly priceCents: number;
    readonly productName: string;
    readonly siteUrl: string;
    /** PAYFLUX_CHECKOUT_RATELIMIT_PER_MIN: sessions per client address per minute; 0 = off. */
    readonly checkoutPerMinute: number;
    readonly trustProxy: boolean;
  };
  readonly riskApi: {
    readonly enabled: boolean;
    readonly keys: readonly string[];
    readonly trustProxy: boolean;
    readonly allowHosts: readonly string[];
  };
}
