/**
 * Scan history per host in Redis: a sorted set of raw snapshots, newest first on read.
 *
 * Score = analyzedAt ms × 1024 + (per-host sequence mod 1024): time-ordered, unique even for
 * scans in the same millisecond, and exact in a double until the year 2245. The member is
 * `<score>|<snapshot JSON>`, so equal snapshots never collapse. One Lua script appends, drops
 * entries past the retention window, trims to `historyMaxPerHost` and refreshes the TTL, all
 * atomically. Pages are addressed by an exclusive score cursor, so new scans arriving between
 * two page reads never shift or repeat entries.
 */
import { luaScript, runScript } from '../buffer/redis-script.js';
import { randomUUID } from 'node:crypto';
import { slotScoped, type RedisClient as Redis } from '../buffer/redis-client.js';
import type { RiskApiLimits } from './limits.js';
import { POLICY_STATUSES, type PolicyStatus, type RiskSnapshot, type Trend } from './types.js';

export const APPEND_SCAN = luaScript<unknown>(
  'risk_append_scan',
  `
if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', 600) then return false end
local seq = redis.call('INCR', KEYS[2]) % 1024
local ms = tonumber(ARGV[1])
local score = string.format('%.0f', ms * 1024 + seq)
redis.call('ZADD', KEYS[1], score, score .. '|' .. ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', (ms - tonumber(ARGV[4])) * 1024))
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return score
`,
);

export interface HistoryPage {
  readonly host: string;
  readonly total: number;
  readonly items: readonly RiskSnapshot[];
  /** Pass back as `cursor` for the next (older) page; `null` on the last page. */
  readonly nextCursor: string | null;
}

export interface TrendReport {
  readonly host: string;
  readonly trend: Trend;
  readonly latestTier: number;
  readonly previousTier: number | null;
  readonly analyzedAt: string;
  readonly policySurface: Readonly<Record<PolicyStatus, number>>;
  readonly scans: number;
}

export interface HistoryStore {
  append(host: string, snapshot: RiskSnapshot): Promise<void>;
  page(host: string, cursor: string | null, limit: number): Promise<HistoryPage>;
  /** `null` when the host has no scans in the retention window. */
  trend(host: string): Promise<TrendReport | null>;
}

export const CURSOR_RE = /^\d{1,17}$/;

export function createHistoryStore(
  redis: Redis,
  keyPrefix: string,
  limits: RiskApiLimits,
  now: () => number,
): HistoryStore {
  const keyOf = (host: string): string => `${keyPrefix}risk:history:${slotScoped(redis, host)}`;
  const minScore = (): string => String(Math.max(0, Math.floor(now() - limits.historyRetentionSec * 1000) * 1024));

  async function newest(
    host: string,
    max: string,
    count: number,
  ): Promise<{ score: string; snapshot: RiskSnapshot }[]> {
    const flat = await redis.zrevrangebyscore(keyOf(host), max, minScore(), 'LIMIT', 0, count);
    const out: { score: string; snapshot: RiskSnapshot }[] = [];
    for (const member of flat) {
      const bar = member.indexOf('|');
      if (bar <= 0) continue;
      try {
        out.push({ score: member.slice(0, bar), snapshot: JSON.parse(member.slice(bar + 1)) as RiskSnapshot });
      } catch {
        // a corrupt member is skipped rather than failing the whole page
      }
    }
    return out;
  }

  return {
    async append(host, snapshot) {
      const ms = Date.parse(snapshot.analyzedAt);
      // KEYS[3] marks this call for 10 minutes: the same call run again (ioredis re-sends a
      // command after REDIS_SOCKET_TIMEOUT_MS) does not record the scan twice.
      await runScript(
        redis,
        APPEND_SCAN,
        [keyOf(host), `${keyOf(host)}:seq`, `${keyPrefix}risk:history-call:${slotScoped(redis, host)}:${randomUUID()}`],
        [
          Number.isFinite(ms) ? ms : now(),
          JSON.stringify(snapshot),
          limits.historyMaxPerHost,
          limits.historyRetentionSec * 1000,
          Math.max(1, limits.historyRetentionSec),
        ],
      );
    },
    async page(host, cursor, limit) {
      const [total, rows] = await Promise.all([
        redis.zcount(keyOf(host), minScore(), '+inf'),
        newest(host, cursor === null ? '+inf' : `(${cursor}`, limit + 1),
      ]);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        host,
        total,
        items: items.map((r) => r.snapshot),
        nextCursor: rows.length > limit && last !== undefined ? last.score : null,
      };
    },
    async trend(host) {
      const [rows, scans] = await Promise.all([newest(host, '+inf', 2), redis.zcount(keyOf(host), minScore(), '+inf')]);
      const latest = rows[0]?.snapshot;
      if (latest === undefined) return null;
      const previous = rows[1]?.snapshot;
      const trend: Trend =
        previous === undefined || previous.riskTier === latest.riskTier
          ? 'STABLE'
          : latest.riskTier > previous.riskTier
            ? 'DEGRADING'
            : 'IMPROVING';
      const policySurface = { Present: 0, Weak: 0, Missing: 0 };
      for (const p of Object.values(latest.policies))
        if (POLICY_STATUSES.includes(p.status)) policySurface[p.status] += 1;
      return {
        host,
        trend,
        latestTier: latest.riskTier,
        previousTier: previous?.riskTier ?? null,
        analyzedAt: latest.analyzedAt,
        policySurface,
        scans,
      };
    },
  };
}
