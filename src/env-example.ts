/**
 * `.env.example`: every variable the configuration schema reads, its default (from the schema
 * itself) and one line of meaning. `npm run env-example` writes it; a test holds the file equal
 * to `renderEnvExample()`. A variable added to the schema without a meaning here fails to compile.
 */
import { ENV_VARS, envDefault, type EnvVar } from './config.js';

export const ENV_MEANINGS: Readonly<Record<EnvVar, string>> = {
  HTTP_ADDR: 'listen address, host:port or :port',
  PAYFLUX_HTTP_MAX_CONNECTIONS: 'open HTTP connections at once, more are refused; 0 = the descriptor limit less 256',
  PAYFLUX_HTTP_HEADERS_TIMEOUT_MS: 'a request whose headers take longer is answered 408 and closed',
  PAYFLUX_HTTP_REQUEST_TIMEOUT_MS: 'a request (headers and body) that takes longer is answered 408 and closed',
  PAYFLUX_HTTP_KEEPALIVE_TIMEOUT_MS:
    "an idle keep-alive connection is closed after this; above a load balancer's idle timeout",
  PAYFLUX_HTTP_BODY_BUDGET_BYTES: 'request-body bytes in flight over all requests; beyond, 503 before the body is read',
  PAYFLUX_ENV: 'dev or prod; prod refuses keys shorter than 16 chars and placeholders',
  PAYFLUX_ROLE: 'all, ingest (no consumer) or consumer (ingest answers 503)',
  PAYFLUX_WORKERS:
    'processes: 1 = this one does it all; N > 1 = a supervisor, N-1 ingest workers on the port and 1 consumer (N consumers with PAYFLUX_ROLE=consumer)',
  PAYFLUX_BUFFER: 'auto, redis or memory; auto falls back to the non-durable memory buffer only without REDIS_ADDR/URL',
  PAYFLUX_LOG_LEVEL: 'pino level; logs are JSON on stderr',
  PAYFLUX_PANIC_MODE: 'on an uncaught error: crash (exit 1, the supervisor restarts) or recover (log and go on)',
  PAYFLUX_SHUTDOWN_TIMEOUT_SEC: 'hard limit for a graceful shutdown',
  PAYFLUX_HEAP_GROWING_PERCENT:
    "old generation may grow to (1 + p/100) x the live heap after a major GC; 0 = V8's own; unset: 100, or 300 with PAYFLUX_ROLE=consumer",
  PAYFLUX_API_KEYS: 'comma-separated bearer keys for ingest and the API',
  PAYFLUX_API_KEY: 'a single key, merged with PAYFLUX_API_KEYS',
  PAYFLUX_REVOKED_KEYS: 'keys refused even if listed',
  PAYFLUX_API_KEYS_FILE: 'a file of further keys, read at start and on SIGHUP (rotation without a restart)',
  PAYFLUX_REVOKED_KEYS_FILE: 'a file of further revoked keys, read the same way',
  PAYFLUX_RATELIMIT_RPS: 'per-key token refill per second; 0 disables limiting',
  PAYFLUX_RATELIMIT_BURST: 'per-key bucket size; 0 disables limiting',
  PAYFLUX_RATELIMIT_MAX_KEYS: 'rate-limit buckets kept (least recently used evicted)',
  PAYFLUX_PROCESSORS: 'accepted processor values, comma-separated (case-sensitive)',
  PAYFLUX_MAX_BODY_BYTES: 'single-event body limit (413 above)',
  PAYFLUX_MAX_BATCH: 'events per batch request; at most PAYFLUX_APPEND_MAX_PENDING',
  PAYFLUX_MAX_BATCH_BODY_BYTES: 'batch body limit',
  PAYFLUX_MAX_CLOCK_SKEW_SEC: 'how far in the future event_timestamp may be',
  PAYFLUX_DEDUP_WINDOW_SEC: 'an event_id is accepted once per window: refused for at least this long, at most twice it',
  PAYFLUX_APPEND_MAX_BATCH: 'events per micro-batched Redis round trip',
  PAYFLUX_APPEND_MAX_PENDING: 'events queued or in flight before ingest answers 503',
  PAYFLUX_APPEND_TIMEOUT_MS: 'every ingest request is answered within this (50-1000)',
  PAYFLUX_APPEND_MAX_IN_FLIGHT: 'append round trips to Redis at once',
  PAYFLUX_INGEST_ENABLED: 'false answers 503 on the ingest routes',
  REDIS_ADDR: 'Redis host:port (localhost:6379 when neither this nor REDIS_URL is set)',
  REDIS_URL: 'redis:// or rediss:// URL, instead of REDIS_ADDR',
  REDIS_PASSWORD: 'Redis password (never logged)',
  REDIS_TLS: 'TLS to Redis',
  REDIS_SOCKET_TIMEOUT_MS: 'reconnect a Redis connection whose commands got no answer this long; 0 = never',
  REDIS_CLUSTER_NODES: 'Redis Cluster seed nodes, host:port,host:port (instead of REDIS_ADDR/REDIS_URL)',
  PAYFLUX_REDIS_WAIT_REPLICAS: 'replicas that must acknowledge each append (WAIT) before ingest answers; 0 = off',
  PAYFLUX_REDIS_WAIT_TIMEOUT_MS: 'how long an append waits for those replicas before ingest answers 503',
  PAYFLUX_KEY_PREFIX: 'prefix of every key PayFlux owns besides the streams',
  PAYFLUX_STREAM:
    'stream name: each processor partition is <name>:{<tag>}; a stream of this exact name is read until drained',
  PAYFLUX_CONSUMER_GROUP: 'the consumer group',
  PAYFLUX_DLQ_STREAM: 'dead-letter stream name: each partition has <name>:{<tag>}',
  PAYFLUX_STREAM_MAXLEN:
    'retention cap on each partition stream length, in events; 0 = off (unacknowledged entries are always kept)',
  PAYFLUX_RAW_EVENT_TTL_DAYS:
    'trim acknowledged entries older than this; 0 = no purge by age (any past event_timestamp is accepted)',
  PAYFLUX_RETENTION_INTERVAL_MS: 'how often retention runs',
  PAYFLUX_LEASE_TTL_MS: 'partition lease time to live: a dead consumer partitions move after at most this + 5 s',
  PAYFLUX_CONSUMER_NAME: 'consumer name in the group (hostname-pid-random when unset)',
  PAYFLUX_READ_COUNT: 'events per read (XREADGROUP asks for as many entries as carry about this many events)',
  PAYFLUX_READ_BLOCK_MS: 'BLOCK of each read',
  PAYFLUX_CLAIM_IDLE_MS: 'reclaim entries idle this long in a dead consumer',
  PAYFLUX_MAX_DELIVERIES:
    'deliveries after which an entry is processed alone on probation; dead-lettered only if three such runs ended on it',
  PAYFLUX_ACK_MODE:
    'after_export (at least once) or before_export (best effort: a failing destination is counted, never waited for)',
  PAYFLUX_EXPORT_MODE: 'stdout, file or both',
  PAYFLUX_EXPORT_FILE: 'export file, required for file and both; its directory must exist',
  PAYFLUX_EXPORT_STALE_SEC: '/export/health and /ready are 503 once a destination fails this long',
  PAYFLUX_RISK_SCORE_ENABLED: 'false exports events without risk fields (no warnings or alerts then)',
  PAYFLUX_RISK_MODEL: 'adaptive or classic',
  PAYFLUX_RISK_SCORE_WINDOW_SEC: 'risk window in seconds (10 s buckets)',
  PAYFLUX_ALLOWED_LATENESS_SEC: 'late events still land in their bucket',
  PAYFLUX_RISK_SCORE_THRESHOLDS: 'elevated, high and critical score thresholds',
  PAYFLUX_TIER:
    'tier1 (Processor Exposure Monitor) or tier2 (Revenue Protection: playbook context, trajectory, alerts)',
  PAYFLUX_PILOT_MODE: 'warnings, outcomes and the pilot dashboard',
  PAYFLUX_WARNINGS_ENABLED: 'open warnings in pilot mode',
  PAYFLUX_WARNING_COOLDOWN_SEC: 'low this long (event time) resolves a warning',
  PAYFLUX_WARNING_RETENTION_DAYS: 'warnings kept this long',
  PAYFLUX_WARNING_MAX: 'warnings kept at most, per processor',
  PAYFLUX_RISK_HISTORY_HOURS: 'per-processor risk history for the dashboard, one summary per 10 s (1-168)',
  PAYFLUX_ALERT_SLACK_WEBHOOK_URL: 'Slack incoming webhook for incidents (tier 2 only)',
  PAYFLUX_ALERT_WEBHOOK_URL: 'generic JSON webhook for incidents (tier 2 only)',
  PAYFLUX_ALERT_MIN_BAND: 'lowest band that alerts',
  PAYFLUX_ALERT_MAX_PER_HOUR: 'alerts sent per hour at most',
  STRIPE_WEBHOOK_SECRET: 'verifies POST /v1/webhooks/stripe; the route exists only with it',
  STRIPE_API_KEY: 'sk_... key; enables POST /checkout',
  PRICE_CENTS: 'checkout price in cents',
  PRODUCT_NAME: 'checkout product name',
  SITE_URL: 'where checkout returns to',
  PAYFLUX_CHECKOUT_RATELIMIT_PER_MIN: 'checkout sessions per client address per minute; 0 = off',
  PAYFLUX_RISK_API_ENABLED: 'the merchant-scan Risk Intelligence API (needs Redis)',
  PAYFLUX_RISK_API_KEYS: 'pf_test_... (FREE) and pf_live_... (PRO) Risk API keys, comma-separated',
  PAYFLUX_TRUST_PROXY: 'take client addresses from the right-most x-forwarded-for entry (one proxy you run)',
  PAYFLUX_RISK_ALLOW_HOSTS: 'hosts or CIDRs the scanner may reach on any port (tests, internal)',
};

const HEADER = `# PayFlux configuration: every variable, its default and what it does.
# Copy to .env in PayFlux's working directory (read at start; the real environment wins) and
# uncomment what you change. A variable left unset takes its default.
# Generated from the configuration schema by \`npm run env-example\`: do not edit by hand.
`;

/** The text of `.env.example`: per variable, its meaning, then `# NAME=default` (empty: none). */
export function renderEnvExample(): string {
  const blocks = (ENV_VARS as readonly EnvVar[]).map(
    (name) => `# ${ENV_MEANINGS[name]}\n# ${name}=${envDefault(name) ?? ''}\n`,
  );
  return `${HEADER}\n${blocks.join('\n')}`;
}
