/**
 * Every bound of the Risk Intelligence API in one frozen object: crawl size and time, cache
 * lifetimes, history size, in-flight scans, and the token bucket of each caller tier.
 * `resolveLimits(partial)` is validated once at plugin registration.
 */

export const CALLER_TIERS = ['ANONYMOUS', 'FREE', 'PRO'] as const;
export type CallerTier = (typeof CALLER_TIERS)[number];

export interface BucketLimits {
  /** Tokens added per minute. */
  readonly perMinute: number;
  /** Bucket size: the burst a caller may spend at once. */
  readonly capacity: number;
}

export interface RiskApiLimits {
  /** Pages per scan, home page included. */
  readonly maxPages: number;
  /** Bytes read from one response body; the rest is never read (the socket is closed). */
  readonly maxBytesPerPage: number;
  /** Wall-clock budget of one scan, DNS, redirects and every page included. */
  readonly scanBudgetMs: number;
  /** Connect, headers and body-idle timeout of a single request. */
  readonly requestTimeoutMs: number;
  readonly maxRedirects: number;
  /** Fewer visible characters than this over all scanned pages is a 422. */
  readonly minTextChars: number;
  readonly cacheTtlSec: number;
  readonly failureTtlSec: number;
  /** Lifetime of a DNS/SSRF verdict, in the process and in the scan cache. */
  readonly verdictTtlMs: number;
  readonly dnsCacheMaxEntries: number;
  readonly historyMaxPerHost: number;
  readonly historyRetentionSec: number;
  readonly historyDefaultPageSize: number;
  readonly historyMaxPageSize: number;
  /** Distinct scans running at once in this process; more is a 503 PF_ERR_OVERLOADED. */
  readonly maxInflightScans: number;
  readonly tiers: Readonly<Record<CallerTier, BucketLimits>>;
}

export type RiskApiLimitsInput = Partial<Omit<RiskApiLimits, 'tiers'>> & {
  readonly tiers?: Partial<Record<CallerTier, BucketLimits>>;
};

export const DEFAULT_LIMITS: RiskApiLimits = Object.freeze({
  maxPages: 6,
  maxBytesPerPage: 512 * 1024,
  scanBudgetMs: 10_000,
  requestTimeoutMs: 5_000,
  maxRedirects: 5,
  minTextChars: 200,
  cacheTtlSec: 24 * 3600,
  failureTtlSec: 3600,
  verdictTtlMs: 5_000,
  dnsCacheMaxEntries: 1_000,
  historyMaxPerHost: 100,
  historyRetentionSec: 90 * 86_400,
  historyDefaultPageSize: 20,
  historyMaxPageSize: 100,
  maxInflightScans: 32,
  tiers: Object.freeze({
    ANONYMOUS: Object.freeze({ perMinute: 1, capacity: 3 }),
    FREE: Object.freeze({ perMinute: 5, capacity: 10 }),
    PRO: Object.freeze({ perMinute: 60, capacity: 100 }),
  }),
});

/** Merge `input` over the defaults, check every number, freeze. Throws on a bad value. */
export function resolveLimits(input: RiskApiLimitsInput = {}): RiskApiLimits {
  const tiers = {
    ANONYMOUS: { ...DEFAULT_LIMITS.tiers.ANONYMOUS, ...input.tiers?.ANONYMOUS },
    FREE: { ...DEFAULT_LIMITS.tiers.FREE, ...input.tiers?.FREE },
    PRO: { ...DEFAULT_LIMITS.tiers.PRO, ...input.tiers?.PRO },
  };
  const merged: RiskApiLimits = { ...DEFAULT_LIMITS, ...input, tiers };
  for (const [name, value] of Object.entries(merged)) {
    if (name === 'tiers') continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new RangeError(`risk-api limits.${name} must be a finite number ≥ 0`);
  }
  if (merged.maxPages < 1) throw new RangeError('risk-api limits.maxPages must be ≥ 1');
  if (merged.maxBytesPerPage < 1) throw new RangeError('risk-api limits.maxBytesPerPage must be ≥ 1');
  for (const tier of Object.keys(tiers) as CallerTier[]) {
    const t = tiers[tier];
    if (!(t.perMinute > 0) || !(t.capacity >= 1))
      throw new RangeError(`risk-api limits.tiers.${tier} needs perMinute > 0 and capacity ≥ 1`);
    Object.freeze(t);
  }
  Object.freeze(tiers);
  return Object.freeze(merged);
}
