/**
 * What every benchmark section shares: the flags, the work directory, the Redis server and a
 * client to it, the API key, and how a PayFlux child of a section is configured.
 */

export const GROUP = 'payment_consumers';
export const SINGLE_PATH = '/v1/events/payment_exhaust';
export const BATCH_PATH = '/v1/events/batch';

/** Per-section names keep sections apart in the one Redis of the run. */
export function sectionKeys(section) {
  return { stream: `bench:${section}:events`, dlq: `bench:${section}:dlq`, prefix: `bench:${section}:` };
}

/** PayFlux's environment for `section`: Redis buffer, rate limit off, one key, logs at warn. */
export function payfluxEnv(ctx, section, extra) {
  const k = sectionKeys(section);
  return {
    PAYFLUX_ENV: 'dev',
    PAYFLUX_BUFFER: 'redis',
    REDIS_ADDR: ctx.redisAddr,
    PAYFLUX_API_KEYS: ctx.key,
    PAYFLUX_RATELIMIT_RPS: '0',
    PAYFLUX_STREAM: k.stream,
    PAYFLUX_DLQ_STREAM: k.dlq,
    PAYFLUX_KEY_PREFIX: k.prefix,
    PAYFLUX_CONSUMER_NAME: `bench-${section}`,
    PAYFLUX_LOG_LEVEL: 'warn',
    ...extra,
    ...ctx.opts.payfluxEnv,
  };
}

export function jsonHeaders(ctx) {
  return { 'content-type': 'application/json', authorization: `Bearer ${ctx.key}` };
}

/** Start a section with a clean Redis and fresh per-command statistics. */
export async function resetRedis(ctx) {
  await ctx.redis.flushall();
  await ctx.redis.config('RESETSTAT');
}

export const round1 = (x) => Math.round(x * 10) / 10;
export const round3 = (x) => Math.round(x * 1000) / 1000;
