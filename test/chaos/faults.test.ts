/**
 * Chaos: the faults PayFlux survives, under load, each reporting sent / acked / exported / lost /
 * duplicated / 5xx / peak RSS / time to recover (chaos.ts). A real `payflux serve` child, a real
 * redis-server with AOF (fsync always). Reduced in `npm test`; full size with `npm run chaos`.
 */
import { describe, expect, it } from 'vitest';
import { payfluxEnv } from '../support/payflux-env.js';
import { startPayflux, type PayfluxProcess } from '../support/payflux-process.js';
import { deadLettered, untilDrained } from '../support/probes.js';
import { poll } from '../support/poll.js';
import { useRedis } from '../support/use-redis.js';
import { FULL, recordLoad, rssSampler, startLoad, tally, untilAcked, type Load } from './chaos.js';

const suite = useRedis({ appendonly: true });
const RPS = FULL ? 1000 : 300;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const exportedIds = (pf: PayfluxProcess): string[] =>
  pf.lines.filter((l) => l.startsWith('{')).map((l) => String((JSON.parse(l) as { event_id: unknown }).event_id));

async function ready(url: string): Promise<{ status: number; reason: string }> {
  try {
    const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { reason?: string };
    return { status: res.status, reason: body.reason ?? '' };
  } catch (err) {
    return { status: 0, reason: (err as Error).message };
  }
}

/** Stop the load, wait until everything acknowledged is exported, and record the row. */
async function finish(
  scenario: string,
  pf: PayfluxProcess,
  load: Load,
  rss: { peakMb(): number; stop(): void },
  recoverSec: number | null,
  note: string,
  env: { PAYFLUX_STREAM: string; PAYFLUX_DLQ_STREAM: string; PAYFLUX_CONSUMER_GROUP: string },
): Promise<void> {
  await load.stop();
  await untilDrained(suite.redis, env, { what: 'the backlog drained', timeoutMs: 60_000, context: pf.stderrTail });
  await poll(
    'every acknowledged event exported',
    () => tally(load.acked, exportedIds(pf)).lost,
    (n) => n === 0,
    {
      timeoutMs: 20_000,
      context: pf.stderrTail,
    },
  ).catch(() => undefined);
  rss.stop();
  const t = tally(load.acked, exportedIds(pf));
  const dlq = await deadLettered(suite.redis, env);
  recordLoad(scenario, load, rss, t, recoverSec, `${note}; dead-lettered ${dlq}`);
  expect(t.lost).toBe(0);
  expect(dlq).toBe(0);
}

describe('chaos: process and Redis faults', { timeout: FULL ? 300_000 : 90_000 }, () => {
  it('kill -9 under load, then restart: every acknowledged event exported, duplicates only from the batch in flight', async () => {
    const env = await payfluxEnv(suite, { PAYFLUX_CONSUMER_NAME: 'chaos-kill' });
    const pf = await startPayflux(suite, env);
    const rss = rssSampler(() => pf.pid);
    const load = startLoad(() => pf.url, { rps: RPS, tag: `kill${Date.now()}` });
    const kills = FULL ? 3 : 1;
    let recoverSec = 0;
    for (let k = 0; k < kills; k++) {
      await sleep(FULL ? 5000 : 2000);
      pf.signal('SIGKILL');
      await pf.exited();
      const down = Date.now();
      await pf.restart();
      recoverSec = Math.max(recoverSec, await untilAcked(load, down, 'after the restart', 20_000));
    }
    await sleep(1000);
    await finish('kill -9 under load', pf, load, rss, recoverSec, `${kills}× SIGKILL at ${RPS} req/s`, env);
  });

  it('Redis killed (AOF, fsync always) under load and restarted: ingest answers 503 meanwhile, nothing acknowledged is lost', async () => {
    const env = await payfluxEnv(suite);
    const pf = await startPayflux(suite, env);
    const rss = rssSampler(() => pf.pid);
    const load = startLoad(() => pf.url, { rps: RPS, tag: `rkill${Date.now()}` });
    await sleep(2000);
    await suite.server.stop('SIGKILL');
    await sleep(FULL ? 5000 : 2000);
    await suite.server.start();
    const up = Date.now();
    const recover = await untilAcked(load, up, 'after Redis is back');
    await sleep(1000);
    await finish('Redis SIGKILL with AOF', pf, load, rss, recover, `Redis down ${FULL ? 5 : 2} s at ${RPS} req/s`, env);
  });

  it('Redis frozen (SIGSTOP): /ready says so within 10 s, ingest answers 503 within 1 s, everything recovers by itself', async () => {
    const env = await payfluxEnv(suite);
    const pf = await startPayflux(suite, env);
    const rss = rssSampler(() => pf.pid);
    const load = startLoad(() => pf.url, { rps: RPS, tag: `frz${Date.now()}` });
    await sleep(1500);
    suite.server.pause();
    const frozen = Date.now();
    let detectMs: number;
    try {
      await poll(
        '/ready 503',
        () => ready(pf.url),
        (r) => r.status === 503,
        { timeoutMs: 10_000 },
      );
      detectMs = Date.now() - frozen;
      await sleep(FULL ? 15_000 : 3000);
    } finally {
      suite.server.resume();
    }
    const thawed = Date.now();
    await poll(
      '/ready 200',
      () => ready(pf.url),
      (r) => r.status === 200,
      { timeoutMs: 30_000 },
    );
    const recover = await untilAcked(load, thawed, 'after the thaw');
    await finish(
      'Redis frozen (SIGSTOP)',
      pf,
      load,
      rss,
      recover,
      `frozen ${FULL ? 15 : 3} s; /ready 503 after ${(detectMs / 1000).toFixed(1)} s`,
      env,
    );
    expect(detectMs).toBeLessThan(10_000);
  });

  it('Redis at maxmemory: /ready 503 with the OOM reason, ingest 503, everything recovers once memory is free', async () => {
    const env = await payfluxEnv(suite);
    const pf = await startPayflux(suite, env);
    const rss = rssSampler(() => pf.pid);
    const load = startLoad(() => pf.url, { rps: RPS, tag: `oom${Date.now()}` });
    await sleep(1500);
    await suite.redis.config('SET', 'maxmemory-policy', 'noeviction');
    await suite.redis.config('SET', 'maxmemory', '1');
    const full = Date.now();
    let detectMs: number;
    let reason: string;
    try {
      const r = await poll(
        '/ready 503',
        () => ready(pf.url),
        (x) => x.status === 503,
        { timeoutMs: 10_000 },
      );
      detectMs = Date.now() - full;
      reason = r.reason;
      await sleep(FULL ? 10_000 : 2000);
    } finally {
      await suite.redis.config('SET', 'maxmemory', '0');
    }
    const freed = Date.now();
    const recover = await untilAcked(load, freed, 'once memory is free');
    await finish(
      'Redis at maxmemory',
      pf,
      load,
      rss,
      recover,
      `/ready 503 after ${(detectMs / 1000).toFixed(1)} s: ${reason.slice(0, 40)}`,
      env,
    );
    expect(reason).toMatch(/OOM/);
  });
});
