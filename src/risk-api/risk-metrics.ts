/**
 * The Risk API's live counters: a fixed-shape object read by `GET /api/v1/risk/health`, and the
 * same numbers as Prometheus metrics on the registry the composition root hands in. Labels come
 * from small fixed sets (block reason, caller tier, scan outcome) — never hosts or keys.
 *
 *   payflux_risk_api_requests_total{route}           scan, history, trend, health
 *   payflux_risk_api_scans_total{outcome}            fresh scans: success, blocked, unreachable, unprocessable, error
 *   payflux_risk_api_scan_duration_seconds           fresh scan wall time
 *   payflux_risk_api_scan_success_ratio              success / fresh scans (1 before the first scan)
 *   payflux_risk_api_ssrf_blocks_total{reason}       scheme, credentials, port, hostname, address
 *   payflux_risk_api_rate_limited_total{tier}        429s per caller tier
 *   payflux_risk_api_auth_denied_total               401s (unknown key)
 *   payflux_risk_api_cache_hits_total / _misses_total
 *   payflux_risk_api_inflight_joined_total           requests that joined a scan already running
 *   payflux_risk_api_inflight_scans                  distinct scans running now
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CALLER_TIERS, type CallerTier } from './limits.js';
import { BLOCK_REASONS, type BlockReason } from '../errors.js';

export const SCAN_OUTCOMES = ['success', 'blocked', 'unreachable', 'unprocessable', 'error'] as const;
export type ScanOutcomeLabel = (typeof SCAN_OUTCOMES)[number];
export const ROUTE_LABELS = ['scan', 'history', 'trend', 'health'] as const;
export type RouteLabel = (typeof ROUTE_LABELS)[number];

export interface HealthCounters {
  readonly ssrfBlocks: number;
  readonly rateLimitDenials: number;
  readonly authDenials: number;
  readonly scans: {
    readonly total: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly successRate: number;
  };
  readonly cache: { readonly hits: number; readonly misses: number; readonly hitRate: number };
  readonly inflight: { readonly running: number; readonly joined: number };
}

export interface RiskMetrics {
  request(route: RouteLabel): void;
  scan(outcome: ScanOutcomeLabel, seconds: number): void;
  ssrfBlock(reason: BlockReason): void;
  rateLimited(tier: CallerTier): void;
  authDenied(): void;
  cacheHit(): void;
  cacheMiss(): void;
  joined(): void;
  health(): HealthCounters;
}

export function createRiskMetrics(registry: Registry, inflightSize: () => number): RiskMetrics {
  const registers = [registry];
  const c = {
    ssrfBlocks: 0,
    rateLimitDenials: 0,
    authDenials: 0,
    scans: 0,
    succeeded: 0,
    hits: 0,
    misses: 0,
    joined: 0,
  };
  const successRatio = (): number => (c.scans === 0 ? 1 : c.succeeded / c.scans);

  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers });
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  };
  const requests = counter('payflux_risk_api_requests_total', 'Risk API requests by route', ['route']);
  const scans = counter('payflux_risk_api_scans_total', 'Fresh (uncached) merchant scans by outcome', ['outcome']);
  const duration = new Histogram({
    name: 'payflux_risk_api_scan_duration_seconds',
    help: 'Wall time of fresh merchant scans',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
    registers,
  });
  gauge('payflux_risk_api_scan_success_ratio', 'Successful fresh scans / all fresh scans since start', successRatio);
  const blocks = counter('payflux_risk_api_ssrf_blocks_total', 'Fetches refused by the SSRF guard, by reason', [
    'reason',
  ]);
  const limited = counter(
    'payflux_risk_api_rate_limited_total',
    'Requests refused by the rate limiter, by caller tier',
    ['tier'],
  );
  const denied = counter('payflux_risk_api_auth_denied_total', 'Requests with an unknown API key');
  const hits = counter('payflux_risk_api_cache_hits_total', 'Scan requests answered from the cache');
  const misses = counter('payflux_risk_api_cache_misses_total', 'Scan requests not in the cache');
  const joined = counter(
    'payflux_risk_api_inflight_joined_total',
    'Scan requests that joined an identical scan already running',
  );
  gauge('payflux_risk_api_inflight_scans', 'Distinct scans running in this process', inflightSize);

  // Present from zero, so that increase() sees the first one after a start.
  for (const route of ROUTE_LABELS) requests.inc({ route }, 0);
  for (const outcome of SCAN_OUTCOMES) scans.inc({ outcome }, 0);
  for (const reason of BLOCK_REASONS) blocks.inc({ reason }, 0);
  for (const tier of CALLER_TIERS) limited.inc({ tier }, 0);

  return {
    request: (route) => requests.inc({ route }),
    scan(outcome, seconds) {
      c.scans += 1;
      if (outcome === 'success') c.succeeded += 1;
      scans.inc({ outcome });
      duration.observe(seconds);
    },
    ssrfBlock(reason) {
      c.ssrfBlocks += 1;
      blocks.inc({ reason });
    },
    rateLimited(tier) {
      c.rateLimitDenials += 1;
      limited.inc({ tier });
    },
    authDenied() {
      c.authDenials += 1;
      denied.inc();
    },
    cacheHit() {
      c.hits += 1;
      hits.inc();
    },
    cacheMiss() {
      c.misses += 1;
      misses.inc();
    },
    joined() {
      c.joined += 1;
      joined.inc();
    },
    health() {
      const lookups = c.hits + c.misses;
      return {
        ssrfBlocks: c.ssrfBlocks,
        rateLimitDenials: c.rateLimitDenials,
        authDenials: c.authDenials,
        scans: { total: c.scans, succeeded: c.succeeded, failed: c.scans - c.succeeded, successRate: successRatio() },
        cache: { hits: c.hits, misses: c.misses, hitRate: lookups === 0 ? 0 : c.hits / lookups },
        inflight: { running: inflightSize(), joined: c.joined },
      };
    },
  };
}
