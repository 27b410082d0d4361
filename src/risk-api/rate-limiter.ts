/**
 * Token buckets in Redis, one per caller, refilled continuously and spent atomically by a Lua
 * script, so every node shares the same budget and two concurrent requests can never both take
 * the last token. State is a two-field hash (tokens, last refill ms) that expires once the
 * bucket would be full again, so idle callers cost nothing.
 *
 * Time comes from the caller (`now()`, injectable for tests) rather than Redis TIME: nodes are
 * NTP-synced, and the script never lets time run backwards for a bucket (a node whose clock is
 * behind simply refills nothing).
 *
 * Each call carries a token, kept with the bucket's last answer: the same call run again
 * (ioredis re-sends a command after REDIS_SOCKET_TIMEOUT_MS) gets that answer instead of
 * spending a second token.
 */
import { luaScript, runScript } from '../buffer/redis-script.js';
import { randomUUID } from 'node:crypto';
import type { RedisClient as Redis } from '../buffer/redis-client.js';
import type { BucketLimits } from './limits.js';

export const TAKE_TOKEN = luaScript<unknown>(
  'risk_take_token',
  `
local cap = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'call', 'allowed', 'wait')
if state[3] == ARGV[4] then
  return {tonumber(state[4]), state[1], tonumber(state[5])}
end
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = cap
  ts = now
end
if now > ts then
  tokens = math.min(cap, tokens + (now - ts) * per_ms)
  ts = now
end
local allowed = 0
local wait_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait_ms = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts), 'call', ARGV[4], 'allowed', allowed, 'wait', wait_ms)
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - tokens) / per_ms) + 1000)
return {allowed, tostring(tokens), wait_ms}
`,
);

export interface TakeResult {
  readonly allowed: boolean;
  /** Whole tokens left after this request. */
  readonly remaining: number;
  /** Seconds until one token is available again (0 when allowed). */
  readonly retryAfterSec: number;
}

export interface RateLimiter {
  take(bucketKey: string, limits: BucketLimits): Promise<TakeResult>;
}

export function createRateLimiter(redis: Redis, keyPrefix: string, now: () => number): RateLimiter {
  return {
    async take(bucketKey, limits) {
      const reply = await runScript(
        redis,
        TAKE_TOKEN,
        [`${keyPrefix}risk:rl:${bucketKey}`],
        [limits.capacity, limits.perMinute / 60_000, now(), randomUUID()],
      );
      if (!Array.isArray(reply) || reply.length !== 3) throw new Error('unexpected reply from the rate-limit script');
      const [allowed, tokens, waitMs] = reply as [unknown, unknown, unknown];
      return {
        allowed: allowed === 1,
        remaining: Math.max(0, Math.floor(Number(tokens))),
        retryAfterSec: allowed === 1 ? 0 : Math.max(1, Math.ceil(Number(waitMs) / 1000)),
      };
    },
  };
}
