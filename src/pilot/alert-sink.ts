/**
 * Incident alerts to a Slack incoming webhook and/or a generic webhook, through an outbox in Redis
 *: `enqueue` stores each alert under a stable id with the batch's transitions, a loop
 * delivers what is due, retries failures with exponential backoff, and marks the alert done.
 * At least once: an alert leaves the outbox only after a 2xx (or a permanent 4xx); a crash
 * mid-delivery re-sends it after its lease. Never twice on purpose: the id is derived from the
 * warning, so a batch re-processed after a restart finds the alert already queued or sent.
 *
 * Layout under `<keyPrefix>pilot:alerts:`
 *   a:<alert id>   hash  st (pending|done|failed|expired|capped), att, first, slack/hook = pending bodies
 *   due            zset  alert id → next attempt (epoch ms); claiming moves the score to a lease
 *   hour:<n>       counter of alerts queued in hour n (the hourly cap)
 */
import { backoffMs } from '../backoff.js';
import { luaScript, runScript } from '../buffer/redis-script.js';
import type { RedisClient as Redis } from '../buffer/redis-client.js';
import { Counter, type Registry } from 'prom-client';
import { BAND_RANK, type Band } from '../risk-terms.js';
import type { IncidentTransition } from '../operators/track-incidents.js';
import { slackAlert, webhookAlert, type AlertKind } from './alert-message.js';
import { postJson } from './post-json.js';

const ENQUEUE_LUA = luaScript<[number, number, number]>(
  'alert_enqueue',
  `
local P, now, cap, hourKey, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local queued, capped, dup = 0, 0, 0
for i = 6, #ARGV, 3 do
  local k = P .. 'a:' .. ARGV[i]
  if redis.call('EXISTS', k) == 1 then
    dup = dup + 1
  else
    local n = 0
    if cap > 0 then
      n = redis.call('INCR', P .. hourKey)
      if n == 1 then redis.call('EXPIRE', P .. hourKey, 7200) end
    end
    if cap > 0 and n > cap then
      redis.call('HSET', k, 'st', 'capped', 'first', now)
      capped = capped + 1
    else
      redis.call('HSET', k, 'st', 'pending', 'att', 0, 'first', now)
      if ARGV[i + 1] ~= '' then redis.call('HSET', k, 'slack', ARGV[i + 1]) end
      if ARGV[i + 2] ~= '' then redis.call('HSET', k, 'hook', ARGV[i + 2]) end
      redis.call('ZADD', P .. 'due', now, ARGV[i])
      queued = queued + 1
    end
    redis.call('EXPIRE', k, ttl)
  end
end
return {queued, capped, dup}`,
);

/** Claim up to n due alerts by pushing their due time to the lease end; returns id, slack, hook, att, first per alert. */
const CLAIM_LUA = luaScript<string[]>(
  'alert_claim',
  `
local P, now, leaseUntil, n = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local out = {}
for _, id in ipairs(redis.call('ZRANGE', P .. 'due', '-inf', now, 'BYSCORE', 'LIMIT', 0, n)) do
  local h = redis.call('HMGET', P .. 'a:' .. id, 'slack', 'hook', 'att', 'first')
  if not h[3] then
    redis.call('ZREM', P .. 'due', id)
  else
    redis.call('ZADD', P .. 'due', leaseUntil, id)
    for _, v in ipairs({id, h[1] or '', h[2] or '', h[3], h[4]}) do table.insert(out, v) end
  end
end
return out`,
);

export interface AlertLog {
  warn(obj: object, msg: string): void;
}

export interface AlertSinkOptions {
  /** A connection owned by the caller. */
  readonly redis: Redis;
  readonly keyPrefix: string;
  readonly slackWebhookUrl: string | undefined;
  readonly webhookUrl: string | undefined;
  /** `config.alerts.minBand`: open/escalate at this band or worse, resolve when the peak reached it. */
  readonly minBand: Exclude<Band, 'low'>;
  /** Alerts queued per clock hour; 0 = no cap. Alerts over the cap are dropped and counted. */
  readonly maxPerHour: number;
  readonly now?: () => number;
  readonly pollMs?: number;
  /** Deliver only while this says so (the leader lease: one node of a cluster delivers). */
  readonly shouldDeliver?: () => boolean;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** Give up on an alert this long after it was queued. */
  readonly maxAgeMs?: number;
  readonly requestTimeoutMs?: number;
  readonly claimBatch?: number;
  readonly registry?: Registry;
  readonly log?: AlertLog;
  /** Jitter source in [0, 1); tests pin it. */
  readonly random?: () => number;
}

export interface EnqueueResult {
  readonly queued: number;
  readonly capped: number;
  readonly duplicates: number;
}

export interface AlertSink {
  /** Queue the alert-worthy transitions in one round trip; resolves once they are durable. */
  enqueue(transitions: readonly IncidentTransition[]): Promise<EnqueueResult>;
  /** One delivery pass over what is due now; returns how many alerts it attempted. */
  deliverDue(): Promise<number>;
  /** Deliver in the background every `pollMs` until `close()`. */
  start(): void;
  /** Stop the loop and wait for the pass in flight. The connection stays open (the caller owns it). */
  close(): Promise<void>;
}

type Destination = 'slack' | 'webhook';
export function createAlertSink(options: AlertSinkOptions): AlertSink {
  const { redis, slackWebhookUrl, webhookUrl, log } = options;
  const P = `${options.keyPrefix}pilot:alerts:`;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const pollMs = options.pollMs ?? 1000;
  const baseMs = options.backoffBaseMs ?? 1000;
  const maxMs = options.backoffMaxMs ?? 300_000;
  const maxAgeMs = options.maxAgeMs ?? 86_400_000;
  const timeoutMs = options.requestTimeoutMs ?? 5000;
  const claimBatch = options.claimBatch ?? 20;
  const leaseMs = Math.max(30_000, timeoutMs * 4);
  // Long enough to outlive every redelivery of the batch that queued the alert.
  const recordTtlSec = Math.ceil(maxAgeMs / 1000) + 7 * 86_400;
  const minRank = BAND_RANK[options.minBand];

  const registers = options.registry === undefined ? [] : [options.registry];
  const deliveries = new Counter({
    name: 'payflux_alert_deliveries_total',
    help: 'Alert delivery attempts by destination and result',
    labelNames: ['destination', 'result'] as const,
    registers,
  });
  const suppressed = new Counter({
    name: 'payflux_alerts_suppressed_total',
    help: 'Alerts not sent, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  // Present from zero for the configured destinations, so that increase() sees the first one.
  for (const [destination, url] of [
    ['slack', slackWebhookUrl],
    ['webhook', webhookUrl],
  ] as const)
    if (url !== undefined)
      for (const result of ['delivered', 'failed', 'retried', 'expired']) deliveries.inc({ destination, result }, 0);
  suppressed.inc({ reason: 'hourly_cap' }, 0);

  function alertOf(t: IncidentTransition): { id: string; kind: AlertKind } | undefined {
    const i = t.incident;
    switch (t.kind) {
      case 'open':
        return BAND_RANK[i.processor_risk_band] >= minRank ? { id: `${i.warning_id}|open`, kind: 'open' } : undefined;
      case 'escalate':
        return BAND_RANK[i.processor_risk_band] >= minRank
          ? { id: `${i.warning_id}|escalate|${i.processor_risk_band}`, kind: 'escalate' }
          : undefined;
      case 'resolve':
        return BAND_RANK[i.peak_band] >= minRank ? { id: `${i.warning_id}|resolve`, kind: 'resolve' } : undefined;
      case 'update':
        return undefined;
    }
  }

  async function deliver(id: string, slack: string, hook: string, att: number, first: number): Promise<void> {
    const targets: [Destination, string, string, string][] = [];
    if (slack !== '' && slackWebhookUrl !== undefined) targets.push(['slack', slackWebhookUrl, slack, 'slack']);
    if (hook !== '' && webhookUrl !== undefined) targets.push(['webhook', webhookUrl, hook, 'hook']);
    const attempts = await Promise.all(targets.map(([, url, body]) => postJson(url, body, id, timeoutMs)));
    const tx = redis.multi();
    let remaining = 0;
    let retryAfterMs = 0;
    let fatal = false;
    attempts.forEach((a, n) => {
      const [dest, , , field] = targets[n] as [Destination, string, string, string];
      if (a.result === 'retry') {
        remaining += 1;
        retryAfterMs = Math.max(retryAfterMs, a.retryAfterMs);
        deliveries.inc({ destination: dest, result: 'retried' });
        return;
      }
      tx.hdel(`${P}a:${id}`, field);
      deliveries.inc({ destination: dest, result: a.result === 'ok' ? 'delivered' : 'failed' });
      if (a.result === 'fatal') {
        fatal = true;
        log?.warn({ alert_id: id, destination: dest }, 'alert_rejected');
      }
    });
    const t = now();
    if (remaining === 0) {
      tx.hset(`${P}a:${id}`, 'st', fatal ? 'failed' : 'done').zrem(`${P}due`, id);
    } else if (t - first > maxAgeMs) {
      tx.hset(`${P}a:${id}`, 'st', 'expired').hdel(`${P}a:${id}`, 'slack', 'hook').zrem(`${P}due`, id);
      for (const [dest] of targets) deliveries.inc({ destination: dest, result: 'expired' });
      log?.warn({ alert_id: id, attempts: att + 1 }, 'alert_expired');
    } else {
      const backoff = backoffMs(att, baseMs, maxMs, random);
      tx.hset(`${P}a:${id}`, 'att', att + 1).zadd(`${P}due`, t + Math.max(backoff, retryAfterMs), id);
    }
    await tx.exec();
  }

  async function deliverDue(): Promise<number> {
    const t = now();
    const flat = await runScript(redis, CLAIM_LUA, [`${P}due`], [P, t, t + leaseMs, claimBatch]);
    const work: Promise<void>[] = [];
    for (let n = 0; n + 4 < flat.length; n += 5) {
      const [id, slack, hook, att, first] = flat.slice(n, n + 5) as [string, string, string, string, string];
      work.push(deliver(id, slack, hook, Number(att), Number(first)));
    }
    await Promise.all(work);
    return work.length;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;
  function tick(): void {
    timer = undefined;
    running = (async () => {
      let next = pollMs;
      try {
        if ((options.shouldDeliver?.() ?? true) && (await deliverDue()) >= claimBatch) next = 0; // more may be due: go again at once
      } catch (err) {
        log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'alert_pass_failed');
      }
      running = undefined;
      if (!closed) timer = setTimeout(tick, next).unref();
    })();
  }

  return {
    async enqueue(transitions) {
      const t = now();
      const args: (string | number)[] = [P, t, options.maxPerHour, `hour:${Math.floor(t / 3_600_000)}`, recordTtlSec];
      for (const tr of transitions) {
        const a = alertOf(tr);
        if (a === undefined) continue;
        const slack = slackWebhookUrl === undefined ? '' : JSON.stringify(slackAlert(a.kind, tr.incident));
        const hook = webhookUrl === undefined ? '' : JSON.stringify(webhookAlert(a.id, a.kind, tr.incident, t));
        if (slack !== '' || hook !== '') args.push(a.id, slack, hook);
      }
      if (args.length === 5) return { queued: 0, capped: 0, duplicates: 0 };
      const [queued, capped, duplicates] = await runScript(redis, ENQUEUE_LUA, [`${P}due`], args);
      if (capped > 0) {
        suppressed.inc({ reason: 'hourly_cap' }, capped);
        log?.warn({ capped, max_per_hour: options.maxPerHour }, 'alerts_capped');
      }
      return { queued, capped, duplicates };
    },
    deliverDue,
    start() {
      if (timer === undefined && running === undefined && !closed) timer = setTimeout(tick, 0).unref();
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
