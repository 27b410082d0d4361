/**
 * Per-key token buckets: `rps` tokens a second up to `burst`; either at 0 disables limiting
 * (a bucket that holds nothing would refuse everything, not limit it).
 * Keyed by key id (a digest), never by header text. Bounded: at most `maxKeys` buckets, the
 * least recently used evicted first (an evicted key simply starts again with a full bucket).
 */
export interface TakeResult {
  readonly ok: boolean;
  /** Tokens left after this request. */
  readonly remaining: number;
  /** Whole seconds until one token is available (≥ 1 when denied). */
  readonly retryAfterSec: number;
  /** Whole seconds until the bucket is full again. */
  readonly resetSec: number;
}

export interface TokenBuckets {
  take(key: string, nowMs: number, cost?: number): TakeResult;
  readonly enabled: boolean;
  readonly limit: number;
  readonly size: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function createTokenBuckets(o: { rps: number; burst: number; maxKeys: number }): TokenBuckets {
  const buckets = new Map<string, Bucket>();
  const burst = Math.max(o.burst, 1);
  const perMs = o.rps / 1000;
  return {
    enabled: o.rps > 0 && o.burst > 0,
    limit: burst,
    get size() {
      return buckets.size;
    },
    take(key, nowMs, cost = 1) {
      let b = buckets.get(key);
      if (b === undefined) {
        b = { tokens: burst, updatedMs: nowMs };
        if (buckets.size >= o.maxKeys) {
          const oldest = buckets.keys().next();
          if (oldest.done !== true) buckets.delete(oldest.value);
        }
      } else {
        b.tokens = Math.min(burst, b.tokens + (nowMs - b.updatedMs) * perMs);
        b.updatedMs = nowMs;
        buckets.delete(key); // re-insert: Map order is our LRU order
      }
      buckets.set(key, b);
      const resetSec = Math.ceil((burst - b.tokens + (b.tokens >= cost ? cost : 0)) / o.rps);
      if (b.tokens >= cost) {
        b.tokens -= cost;
        return { ok: true, remaining: Math.floor(b.tokens), retryAfterSec: 0, resetSec };
      }
      return { ok: false, remaining: 0, retryAfterSec: Math.max(1, Math.ceil((cost - b.tokens) / o.rps)), resetSec };
    },
  };
}
