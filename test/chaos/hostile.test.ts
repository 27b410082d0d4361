/**
 * Chaos: hostile clients. Thousands of slow unauthenticated connections against the process's
 * descriptor limit leave legitimate requests answered (health p99 under 1 s); a flood of large
 * bodies keeps memory bounded by the body budget. Reduced in `npm test`; full size (4,000
 * connections under `ulimit -n 4096`, 120 concurrent 8 MiB bodies) with `npm run chaos`.
 */
import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { payfluxEnv, API_KEY } from '../support/payflux-env.js';
import { startPayflux } from '../support/payflux-process.js';
import { metric, untilDrained } from '../support/probes.js';
import { useRedis } from '../support/use-redis.js';
import { FULL, record, recordLoad, rssSampler, startLoad, tally } from './chaos.js';

const suite = useRedis();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** This process's soft descriptor limit set to `n` (children started meanwhile inherit it); returns the old one. */
function softNofile(n: number): number {
  const old = Number(
    execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--noheadings', '--output=SOFT', '--raw'])
      .toString()
      .trim(),
  );
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${n}:`]);
  return old;
}

/**
 * One attacker, reconnecting whenever the server closes it until `stop`: either the slow body
 * of an unauthenticated POST (`Content-Length: 1000000`, `{`, then a byte every 5 s) or headers
 * that never end (a header line every 5 s).
 */
function attacker(host: string, port: number, kind: 'body' | 'headers', stopped: () => boolean): void {
  const go = (): void => {
    if (stopped()) return;
    const s: Socket = connect({ host, port });
    let drip: NodeJS.Timeout | undefined;
    s.on('connect', () => {
      s.write(
        kind === 'body'
          ? 'POST /v1/events/payment_exhaust HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{'
          : 'GET /health HTTP/1.1\r\nHost: x\r\n',
      );
      drip = setInterval(() => s.writable && s.write(kind === 'body' ? ' ' : 'X-Slow: 1\r\n'), 5000);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(drip);
      if (!stopped()) setTimeout(go, 20);
      else s.destroy();
    });
    sockets.add(s);
  };
  go();
}
const sockets = new Set<Socket>();

describe('chaos: hostile clients', { timeout: FULL ? 300_000 : 90_000 }, () => {
  it('slow unauthenticated connections at the descriptor limit: legitimate requests keep getting answers', async () => {
    const limit = FULL ? 4096 : 1024;
    const attackers = FULL ? 4000 : 900;
    const seconds = FULL ? 30 : 8;
    const env = await payfluxEnv(suite);
    const old = softNofile(limit);
    let pf;
    try {
      pf = await startPayflux(suite, env);
    } finally {
      softNofile(old);
    }
    const child = pf;
    const rss = rssSampler(() => child.pid);
    const { hostname, port } = new URL(child.url);
    let stop = false;
    for (let i = 0; i < attackers; i++) attacker(hostname, Number(port), i % 2 === 0 ? 'body' : 'headers', () => stop);
    await sleep(2000);
    const load = startLoad(() => child.url, { rps: 100, connections: 4, tag: `legit${Date.now()}` });
    const latencies: number[] = [];
    let healthFailures = 0;
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
      const t0 = performance.now();
      const ok = await request(`${child.url}/health`, { headersTimeout: 5000, bodyTimeout: 5000, reset: true })
        .then(async (r) => {
          await r.body.dump();
          return r.statusCode === 200;
        })
        .catch(() => false);
      latencies.push(performance.now() - t0);
      if (!ok) healthFailures++;
      await sleep(50);
    }
    stop = true;
    for (const s of sockets) s.destroy();
    sockets.clear();
    await load.stop();
    const refused = await metric(child.url, 'payflux_http_connections_refused_total');
    const denied = await metric(child.url, 'payflux_auth_denied_total', { reason: 'missing' });
    await untilDrained(suite.redis, env, { what: 'the backlog drained', timeoutMs: 60_000 });
    rss.stop();
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
    const t = tally(
      load.acked,
      child.exported().map((l) => l.event_id),
    );
    recordLoad(
      'slow clients at the connection limit',
      load,
      rss,
      t,
      null,
      `${attackers} slow connections, ulimit -n ${limit}: /health p99 ${Math.round(p99)} ms, ${healthFailures}/${latencies.length} failed; ${denied} answered 401 unread, ${refused} closed for the cap; ingest ${load.otherFailures()} failed`,
    );
    expect(p99).toBeLessThan(1000);
    expect(healthFailures).toBeLessThanOrEqual(Math.ceil(latencies.length * 0.01));
    expect(t.lost).toBe(0);
  });

  it('concurrent 8 MiB batch bodies from one key: peak RSS bounded, the excess answered 503 before it is read, nothing accepted lost', async () => {
    const concurrent = FULL ? 120 : 30;
    const env = await payfluxEnv(suite, { PAYFLUX_RATELIMIT_RPS: '100' });
    const pf = await startPayflux(suite, env);
    const rss = rssSampler(() => pf.pid);
    const tag = `big${Date.now()}`;
    const pad = 'x'.repeat(8000);
    const eventText = (req: number, i: number): string =>
      JSON.stringify({
        event_id: `${tag}-${String(req).padStart(3, '0')}-${String(i).padStart(4, '0')}`,
        event_timestamp: new Date().toISOString(),
        event_type: 'payment_failed',
        processor: 'stripe',
        retry_count: 1,
        pad,
      });
    const perBody = 1000;
    const bodyLength = 2 + perBody * eventText(0, 0).length + (perBody - 1);
    /** The body streamed as it is generated: the test process never holds 120 × 8 MiB. */
    const body = (req: number): Readable =>
      Readable.from(
        (function* () {
          yield '[';
          for (let i = 0; i < perBody; i++) yield (i === 0 ? '' : ',') + eventText(req, i);
          yield ']';
        })(),
      );
    const acked = new Set<string>();
    const statuses = await Promise.all(
      Array.from({ length: concurrent }, async (_, req) => {
        try {
          const res = await request(`${pf.url}/v1/events/batch`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${API_KEY}`,
              'content-type': 'application/json',
              'content-length': String(bodyLength),
            },
            body: body(req),
            headersTimeout: 60_000,
            bodyTimeout: 60_000,
          });
          const out = (await res.body.json()) as { accepted?: number };
          if (res.statusCode === 200 && out.accepted === perBody)
            for (let i = 0; i < perBody; i++) acked.add(JSON.parse(eventText(req, i)).event_id as string);
          return res.statusCode;
        } catch {
          return 0;
        }
      }),
    );
    await untilDrained(suite.redis, env, { what: 'the backlog drained', timeoutMs: 120_000 });
    rss.stop();
    const t = tally(
      acked,
      pf.exported().map((l) => l.event_id),
    );
    const budget = await metric(pf.url, 'payflux_http_body_budget_refused_total');
    const count = (s: number): number => statuses.filter((x) => x === s).length;
    record({
      scenario: 'large bodies',
      sent: concurrent * perBody,
      acked: acked.size,
      ...t,
      fivexx: count(503),
      peakRssMb: rss.peakMb(),
      recoverSec: null,
      note: `${concurrent} concurrent ${(bodyLength / 1_048_576).toFixed(1)} MiB bodies: ${count(200)} accepted, ${budget} answered 503 PF_ERR_BODY_BUDGET unread, ${count(0)} reset`,
    });
    expect(rss.peakMb()).toBeLessThan(400);
    expect(count(200)).toBeGreaterThan(0);
    expect(t.lost).toBe(0);
  });
});
