/**
 * The scan cache in Redis: one JSON value per distinct question, with a lifetime by outcome —
 * a fresh snapshot `cacheTtlSec` (24 h), a failure `failureTtlSec` (1 h), and a refusal from
 * the SSRF guard only `verdictTtlMs` (5 s), because DNS may change its answer.
 *
 * The key is a SHA-256 over every input that changes the answer: the normalised URL, the
 * normalised industry and processor, and the scoring version.
 */
import { createHash } from 'node:crypto';
import type { RedisClient as Redis } from '../buffer/redis-client.js';
import { ERRORS, type ErrorCode } from '../errors.js';
import type { RiskApiLimits } from './limits.js';
import { SCORING_VERSION } from './score-snapshot.js';
import type { RiskSnapshot } from './types.js';

export interface ScanFailure {
  readonly code: ErrorCode;
  readonly message: string;
}

export type ScanOutcome =
  { readonly ok: true; readonly snapshot: RiskSnapshot } | { readonly ok: false; readonly failure: ScanFailure };

export interface ScanCache {
  keyFor(url: string, industry: string, processor: string): string;
  get(key: string): Promise<ScanOutcome | null>;
  put(key: string, outcome: ScanOutcome): Promise<void>;
}

export function createScanCache(redis: Redis, keyPrefix: string, limits: RiskApiLimits): ScanCache {
  return {
    keyFor(url, industry, processor) {
      const digest = createHash('sha256')
        .update(JSON.stringify([SCORING_VERSION, url, industry, processor]))
        .digest('hex');
      return `${keyPrefix}risk:cache:${digest}`;
    },
    async get(key) {
      const raw = await redis.get(key);
      if (raw === null) return null;
      try {
        return parseOutcome(JSON.parse(raw) as unknown);
      } catch {
        return null; // a corrupt entry is a miss; the fresh answer overwrites it
      }
    },
    async put(key, outcome) {
      if (outcome.ok) {
        await redis.set(key, JSON.stringify(outcome), 'EX', limits.cacheTtlSec);
      } else if (outcome.failure.code === 'PF_ERR_FORBIDDEN') {
        await redis.set(key, JSON.stringify(outcome), 'PX', Math.max(1, limits.verdictTtlMs));
      } else {
        await redis.set(key, JSON.stringify(outcome), 'EX', limits.failureTtlSec);
      }
    },
  };
}

function parseOutcome(value: unknown): ScanOutcome | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as { ok?: unknown; snapshot?: unknown; failure?: { code?: unknown; message?: unknown } };
  if (v.ok === true && typeof v.snapshot === 'object' && v.snapshot !== null)
    return { ok: true, snapshot: v.snapshot as RiskSnapshot };
  const code = v.failure?.code;
  if (
    v.ok === false &&
    typeof code === 'string' &&
    Object.hasOwn(ERRORS, code) &&
    typeof v.failure?.message === 'string'
  ) {
    return { ok: false, failure: { code: code as ErrorCode, message: v.failure.message } };
  }
  return null;
}
