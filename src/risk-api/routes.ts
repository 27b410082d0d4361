/**
 * The Risk Intelligence API as a Fastify plugin. The composition root installs the
 * error contract first (`installErrorHandling`) and then registers this plugin; every failure
 * here is a thrown PayFluxError rendered by that handler.
 *
 *   POST /api/v1/risk          {url, industry?, processor?} → risk snapshot   (key + rate limit)
 *   GET  /api/v1/risk/history  ?url=&cursor=&limit=         → newest first    (key; anonymous: rate limit)
 *   GET  /api/v1/risk/trend    ?url=                        → trend + surface (key; anonymous: rate limit)
 *   GET  /api/v1/risk/health                                → live counters
 *
 * Every response carries `x-trace-id`; every request logs `risk_request_start` and
 * `risk_request_complete` with it. Keys and bodies never reach the log (an 8-char key id does).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { validationError } from '../http/validation-error.js';
import type { RedisClient as Redis } from '../buffer/redis-client.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import { PayFluxError } from '../errors.js';
import { parseAllowList } from './address-policy.js';
import { createCallerIdentifier, type Caller } from './caller.js';
import { createHistoryStore, CURSOR_RE } from './history-store.js';
import { createInflight } from './inflight.js';
import { resolveLimits, type RiskApiLimitsInput } from './limits.js';
import { createRateLimiter } from './rate-limiter.js';
import { createRiskMetrics } from './risk-metrics.js';
import { createRiskService } from './risk-service.js';
import { openFetchSession } from './safe-fetch.js';
import { createScanCache, type ScanOutcome } from './scan-cache.js';
import { createSsrfGuard, type Resolver } from './ssrf-guard.js';
import { normaliseUrl } from './target-url.js';
import { traceIdFor } from './trace-id.js';

export interface RiskApiOptions {
  readonly config: Config['riskApi'];
  readonly redis: Redis;
  /** Prefix of every Redis key this plugin writes (`<prefix>risk:…`). */
  readonly keyPrefix: string;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Host name → addresses. Tests inject one; production uses the system resolver. */
  readonly resolver?: Resolver;
  readonly now?: () => number;
  readonly limits?: RiskApiLimitsInput;
}

const USER_AGENT = 'PayFluxRiskScanner/1.0 (+merchant policy scan)';
const LABEL_RE = /^[\p{L}\p{N}][\p{L}\p{N} &/_.+'-]{0,63}$/u;

const scanBodySchema = {
  type: 'object',
  required: ['url'],
  properties: { url: { type: 'string' }, industry: { type: 'string' }, processor: { type: 'string' } },
} as const;

interface RequestState {
  readonly traceId: string;
  readonly started: number;
  caller: Caller | null;
  cache: string | null;
}

/** Register the Risk API routes on `app`. Nothing is registered when `config.enabled` is false. */
export async function riskApiRoutes(app: FastifyInstance, opts: RiskApiOptions): Promise<void> {
  const log = opts.logger.child({ component: 'risk-api' });
  if (!opts.config.enabled) {
    log.info({ event: 'risk_api_disabled' }, 'risk_api_disabled');
    return;
  }
  const limits = resolveLimits(opts.limits);
  const now = opts.now ?? Date.now;
  const allowList = parseAllowList(opts.config.allowHosts);
  if (!allowList.empty)
    log.warn({ event: 'risk_allow_hosts_active', entries: opts.config.allowHosts.length }, 'risk_allow_hosts_active');

  const guard = createSsrfGuard({
    allowList,
    verdictTtlMs: limits.verdictTtlMs,
    maxEntries: limits.dnsCacheMaxEntries,
    now,
    ...(opts.resolver === undefined ? {} : { resolver: opts.resolver }),
  });
  const inflight = createInflight<ScanOutcome>(limits.maxInflightScans);
  const metrics = createRiskMetrics(opts.registry, () => inflight.size);
  const history = createHistoryStore(opts.redis, opts.keyPrefix, limits, now);
  const callers = createCallerIdentifier(opts.config.keys, opts.config.trustProxy);
  const limiter = createRateLimiter(opts.redis, opts.keyPrefix, now);
  const service = createRiskService({
    guard,
    cache: createScanCache(opts.redis, opts.keyPrefix, limits),
    history,
    inflight,
    metrics,
    limits,
    now,
    openSession: () =>
      openFetchSession({
        guard,
        maxRedirects: limits.maxRedirects,
        maxBytesPerPage: limits.maxBytesPerPage,
        requestTimeoutMs: limits.requestTimeoutMs,
        userAgent: USER_AGENT,
      }),
  });

  const states = new WeakMap<FastifyRequest, RequestState>();
  const stateOf = (req: FastifyRequest): RequestState => {
    const s = states.get(req);
    if (s === undefined) throw new PayFluxError('PF_ERR_INTERNAL');
    return s;
  };

  app.addHook('onRequest', (req, reply, done) => {
    const traceId = traceIdFor(req.headers);
    states.set(req, { traceId, started: performance.now(), caller: null, cache: null });
    void reply.header('x-trace-id', traceId);
    log.info(
      { event: 'risk_request_start', traceId, method: req.method, route: req.routeOptions.url },
      'risk_request_start',
    );
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const s = states.get(req);
    if (s !== undefined) {
      log.info(
        {
          event: 'risk_request_complete',
          traceId: s.traceId,
          method: req.method,
          route: req.routeOptions.url,
          status: reply.statusCode,
          durationMs: Math.round(performance.now() - s.started),
          tier: s.caller?.tier ?? null,
          keyId: s.caller?.keyId ?? null,
          cache: s.cache,
        },
        'risk_request_complete',
      );
    }
    done();
  });

  function authenticate(req: FastifyRequest): Caller {
    const s = stateOf(req);
    try {
      s.caller = callers.identify(req.headers, req.socket.remoteAddress ?? '');
      return s.caller;
    } catch (err) {
      metrics.authDenied();
      throw err;
    }
  }

  /**
   * Spend one of the caller's tier tokens. Reads (`kind` 'read') have buckets of their own, so
   * reading a history spends no scan; only anonymous reads are limited (a key is accountable).
   */
  async function rateLimit(
    req: FastifyRequest,
    reply: FastifyReply,
    caller: Caller,
    kind: 'scan' | 'read' = 'scan',
  ): Promise<void> {
    if (kind === 'read' && caller.tier !== 'ANONYMOUS') return;
    const bucket = limits.tiers[caller.tier];
    const name = kind === 'scan' ? `${caller.tier}:${caller.bucket}` : `${caller.tier}:read:${caller.bucket}`;
    const taken = await limiter.take(name, bucket);
    void reply
      .header('ratelimit-limit', String(bucket.capacity))
      .header('ratelimit-remaining', String(taken.remaining));
    if (taken.allowed) return;
    metrics.rateLimited(caller.tier);
    log.warn(
      {
        event: 'risk_rate_limit_deny',
        traceId: stateOf(req).traceId,
        tier: caller.tier,
        keyId: caller.keyId,
        retryAfterSec: taken.retryAfterSec,
      },
      'risk_rate_limit_deny',
    );
    throw new PayFluxError('PF_ERR_RATE_LIMITED', `rate limit for the ${caller.tier} tier exceeded`, {
      retryAfterSec: taken.retryAfterSec,
    });
  }

  app.post('/api/v1/risk', { schema: { body: scanBodySchema }, attachValidation: true }, async (req, reply) => {
    metrics.request('scan');
    const caller = authenticate(req);
    await rateLimit(req, reply, caller);
    if (req.validationError !== undefined) throw validationError(req.validationError);
    const body = req.body as { url: string; industry?: string; processor?: string };
    const url = normaliseUrl(body.url);
    const industry = label(body.industry, 'industry');
    const processor = label(body.processor, 'processor');
    const s = stateOf(req);
    const result = await service.scan({ url, industry, processor }, log, s.traceId);
    s.cache = result.cache;
    return reply.header('x-payflux-cache', result.cache).send(result.snapshot);
  });

  app.get('/api/v1/risk/history', async (req, reply) => {
    metrics.request('history');
    await rateLimit(req, reply, authenticate(req), 'read');
    const q = req.query as Record<string, unknown>;
    const url = normaliseUrl(q.url);
    const cursor = typeof q.cursor === 'string' && q.cursor !== '' ? q.cursor : null;
    if (cursor !== null && !CURSOR_RE.test(cursor))
      throw new PayFluxError('PF_ERR_VALIDATION', 'cursor must be a value returned as nextCursor', { field: 'cursor' });
    const limit = pageSize(q.limit, limits.historyDefaultPageSize, limits.historyMaxPageSize);
    const page = await history.page(url.hostname, cursor, limit);
    log.info(
      {
        event: 'risk_history_read',
        traceId: stateOf(req).traceId,
        host: page.host,
        items: page.items.length,
        total: page.total,
      },
      'risk_history_read',
    );
    return page;
  });

  app.get('/api/v1/risk/trend', async (req, reply) => {
    metrics.request('trend');
    await rateLimit(req, reply, authenticate(req), 'read');
    const url = normaliseUrl((req.query as Record<string, unknown>).url);
    const report = await history.trend(url.hostname);
    log.info(
      { event: 'risk_trend_read', traceId: stateOf(req).traceId, host: url.hostname, trend: report?.trend ?? null },
      'risk_trend_read',
    );
    if (report === null) throw new PayFluxError('PF_ERR_NOT_FOUND', 'no scans of this host yet');
    return report;
  });

  app.get('/api/v1/risk/health', async (req) => {
    metrics.request('health');
    authenticate(req);
    return { status: 'ok', ...metrics.health() };
  });
}

function label(value: string | undefined, field: string): string {
  const v = (value ?? '').trim().replace(/\s+/g, ' ').toLowerCase();
  if (v === '') return 'unspecified';
  if (!LABEL_RE.test(v))
    throw new PayFluxError('PF_ERR_VALIDATION', `${field} must be 1–64 letters, digits, spaces or &/_.+'-`, { field });
  return v;
}

function pageSize(raw: unknown, def: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const n = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= max))
    throw new PayFluxError('PF_ERR_VALIDATION', `limit must be a whole number from 1 to ${max}`, { field: 'limit' });
  return n;
}
