/**
 * The scan use case behind `POST /api/v1/risk`, with no HTTP in it:
 *
 *   SSRF precheck (no network) → cache → in-flight join or lead → fresh scan → cache + history
 *
 * The leader re-reads the cache before scanning, so a request that missed the cache just as
 * another run finished does not scan again. Outcomes are values: failures are cached (403 for
 * `verdictTtlMs`, 502/422 for `failureTtlSec`) and re-thrown as PayFluxError for every waiter.
 * Unexpected errors are not cached and surface as 500.
 */
import type { Logger } from 'pino';
import { PayFluxError } from '../errors.js';
import type { HistoryStore } from './history-store.js';
import type { Inflight } from './inflight.js';
import type { RiskApiLimits } from './limits.js';
import type { RiskMetrics, ScanOutcomeLabel } from './risk-metrics.js';
import type { FetchSession } from './safe-fetch.js';
import type { ScanCache, ScanOutcome } from './scan-cache.js';
import { scanSite, type ScanRequest } from './scan-site.js';
import { BlockedTargetError, UnreachableTargetError } from '../errors.js';
import { type SsrfGuard } from './ssrf-guard.js';
import type { RiskSnapshot } from './types.js';

export type CacheStatus = 'HIT' | 'MISS' | 'JOINED';

export interface RiskServiceDeps {
  readonly guard: SsrfGuard;
  readonly cache: ScanCache;
  readonly history: HistoryStore;
  readonly inflight: Inflight<ScanOutcome>;
  readonly metrics: RiskMetrics;
  readonly limits: RiskApiLimits;
  readonly openSession: () => FetchSession;
  readonly now: () => number;
}

export interface RiskService {
  /** Answer a scan request; throws PayFluxError (403, 422, 502, 503) on failure. */
  scan(req: ScanRequest, log: Logger, traceId: string): Promise<{ snapshot: RiskSnapshot; cache: CacheStatus }>;
}

function unwrap(outcome: ScanOutcome): RiskSnapshot {
  if (outcome.ok) return outcome.snapshot;
  throw new PayFluxError(outcome.failure.code, outcome.failure.message);
}

export function createRiskService(deps: RiskServiceDeps): RiskService {
  const { metrics } = deps;

  function blocked(err: BlockedTargetError, url: string, stage: string, log: Logger, traceId: string): void {
    metrics.ssrfBlock(err.reason);
    let host = '';
    try {
      host = new URL(url).host;
    } catch {
      // keep it empty: the reason says enough
    }
    log.warn(
      { event: 'risk_ssrf_block', traceId, reason: err.reason, stage, host, detail: err.detail },
      'risk_ssrf_block',
    );
  }

  async function lead(key: string, req: ScanRequest, log: Logger, traceId: string): Promise<ScanOutcome> {
    const again = await deps.cache.get(key);
    if (again !== null) return again;
    const started = deps.now();
    let outcome: ScanOutcome;
    let label: ScanOutcomeLabel;
    try {
      const snapshot = await scanSite(req, {
        openSession: deps.openSession,
        limits: deps.limits,
        now: deps.now,
        onBlocked: (err, url) => blocked(err, url, 'policy_page', log, traceId),
      });
      outcome = { ok: true, snapshot };
      label = 'success';
    } catch (err) {
      if (err instanceof BlockedTargetError) {
        blocked(err, req.url.href, 'home_page', log, traceId);
        outcome = { ok: false, failure: { code: 'PF_ERR_FORBIDDEN', message: err.message } };
        label = 'blocked';
      } else if (err instanceof UnreachableTargetError) {
        outcome = { ok: false, failure: { code: 'PF_ERR_UPSTREAM', message: err.message } };
        label = 'unreachable';
      } else if (err instanceof PayFluxError && err.code === 'PF_ERR_UNPROCESSABLE') {
        outcome = { ok: false, failure: { code: err.code, message: err.message } };
        label = 'unprocessable';
      } else {
        metrics.scan('error', (deps.now() - started) / 1000);
        throw err;
      }
    }
    metrics.scan(label, (deps.now() - started) / 1000);
    try {
      await deps.cache.put(key, outcome);
      if (outcome.ok) await deps.history.append(req.url.hostname, outcome.snapshot);
    } catch (err) {
      // The answer is still good; it just will not be remembered.
      log.warn({ event: 'risk_store_failed', traceId, err: { message: (err as Error).message } }, 'risk_store_failed');
    }
    return outcome;
  }

  return {
    async scan(req, log, traceId) {
      try {
        deps.guard.precheck(req.url);
      } catch (err) {
        if (!(err instanceof BlockedTargetError)) throw err;
        blocked(err, req.url.href, 'precheck', log, traceId);
        throw new PayFluxError('PF_ERR_FORBIDDEN', err.message);
      }
      const key = deps.cache.keyFor(req.url.href, req.industry, req.processor);
      const cached = await deps.cache.get(key);
      if (cached !== null) {
        metrics.cacheHit();
        log.info({ event: 'risk_cache_hit', traceId, host: req.url.host, ok: cached.ok }, 'risk_cache_hit');
        return { snapshot: unwrap(cached), cache: 'HIT' };
      }
      metrics.cacheMiss();
      log.info({ event: 'risk_cache_miss', traceId, host: req.url.host }, 'risk_cache_miss');
      const run = deps.inflight.run(key, () => lead(key, req, log, traceId));
      if (run === null)
        throw new PayFluxError('PF_ERR_OVERLOADED', 'too many scans in flight; retry shortly', { retryAfterSec: 5 });
      if (run.joined) metrics.joined();
      return { snapshot: unwrap(await run.promise), cache: run.joined ? 'JOINED' : 'MISS' };
    },
  };
}
