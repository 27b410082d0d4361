/**
 * The chaos suite's instruments: a paced load of single events over a keep-alive pool (what
 * was sent, acknowledged, answered 5xx), a sampler of the PayFlux process's RSS, the export
 * tally (exported, lost, duplicated), and the figures row each scenario records.
 *
 * `npm run chaos` runs every scenario at full size (CHAOS_FULL=1) and prints the table
 * (scripts/chaos-table.mjs); `npm test` runs the fast ones at a reduced size.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { makeEvent } from '../support/events.js';
import { poll } from '../support/poll.js';
import { API_KEY } from '../support/payflux-env.js';

/** Full-size scenarios (`npm run chaos`), or the reduced ones `npm test` runs. */
export const FULL = process.env.CHAOS_FULL === '1';

export interface Figures {
  readonly scenario: string;
  readonly sent: number;
  readonly acked: number;
  readonly exported: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly fivexx: number;
  readonly peakRssMb: number;
  /** Seconds from the end of the fault until PayFlux served again (or the figure the scenario names). */
  readonly recoverSec: number | null;
  readonly note: string;
}

const RESULTS = 'test-results/chaos.jsonl';

/** Append the scenario's row to test-results/chaos.jsonl and print it. */
export function record(f: Figures): void {
  mkdirSync('test-results', { recursive: true });
  appendFileSync(RESULTS, `${JSON.stringify({ ...f, full: FULL, at: new Date().toISOString() })}\n`);
  console.log(`chaos ${JSON.stringify(f)}`);
}

/** Peak resident memory of a process, sampled every 100 ms from /proc. */
export function rssSampler(pid: () => number): { peakMb(): number; stop(): void } {
  let peak = 0;
  const sample = (): void => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid()}/status`, 'utf8'));
      if (m !== null) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      // Between generations (a restart): no process to read.
    }
  };
  sample();
  const t = setInterval(sample, 100);
  return { peakMb: () => Math.round(peak), stop: () => clearInterval(t) };
}

export interface Load {
  /** Ids answered 202. */
  readonly acked: Set<string>;
  readonly sent: () => number;
  readonly fivexx: () => number;
  /** Epoch ms of the latest 202 (0 before any). */
  readonly lastAckMs: () => number;
  /** Answers other than 202 and 5xx (connection errors included). */
  readonly otherFailures: () => number;
  stop(): Promise<void>;
}

/**
 * Single events at about `rps` a second over `connections` keep-alive connections until
 * stopped; ids `<tag>-<n>`. A request that fails is counted and not retried (a producer would
 * retry with the same id: dedup makes that safe, and it would blur the figures).
 */
export function startLoad(url: () => string, o: { rps: number; connections?: number; tag: string }): Load {
  const acked = new Set<string>();
  let sent = 0;
  let fivexx = 0;
  let other = 0;
  let lastAckMs = 0;
  let stopped = false;
  let pool: Pool | undefined;
  let poolUrl = '';
  const connections = o.connections ?? 32;
  const perWorker = o.rps / connections;
  const one = async (): Promise<void> => {
    const id = `${o.tag}-${sent++}`;
    if (pool === undefined || poolUrl !== url()) {
      poolUrl = url();
      pool = new Pool(poolUrl, { connections, pipelining: 1 });
    }
    try {
      const res = await pool.request({
        method: 'POST',
        path: '/v1/events/payment_exhaust',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(makeEvent(id)),
        headersTimeout: 5000,
        bodyTimeout: 5000,
      });
      await res.body.dump();
      if (res.statusCode === 202) {
        acked.add(id);
        lastAckMs = Date.now();
      } else if (res.statusCode >= 500) fivexx++;
      else other++;
    } catch {
      other++;
    }
  };
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const t0 = Date.now();
      await one();
      const wait = 1000 / perWorker - (Date.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  };
  const workers = Array.from({ length: connections }, worker);
  return {
    acked,
    sent: () => sent,
    fivexx: () => fivexx,
    otherFailures: () => other,
    lastAckMs: () => lastAckMs,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      await pool?.close();
    },
  };
}

/** Exported, lost and duplicated for the acknowledged ids, from the export's event ids. */
export function tally(
  acked: ReadonlySet<string>,
  exportedIds: readonly string[],
): { exported: number; lost: number; duplicated: number } {
  const counts = new Map<string, number>();
  for (const id of exportedIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  let lost = 0;
  for (const id of acked) if (!counts.has(id)) lost++;
  let duplicated = 0;
  for (const n of counts.values()) if (n > 1) duplicated += n - 1;
  return { exported: counts.size, lost, duplicated };
}

/** Wait for a 202 after `sinceMs` (epoch ms; `what` names the moment); the seconds from then to that 202. */
export async function untilAcked(load: Load, sinceMs: number, what: string, timeoutMs = 30_000): Promise<number> {
  await poll(
    `a 202 ${what}`,
    () => load.lastAckMs(),
    (t) => t > sinceMs,
    { timeoutMs },
  );
  return (load.lastAckMs() - sinceMs) / 1000;
}

/** Record the row of a scenario run under `load`: what it sent and had acknowledged, the export tally, peak RSS. */
export function recordLoad(
  scenario: string,
  load: Load,
  rss: { peakMb(): number },
  t: ReturnType<typeof tally>,
  recoverSec: number | null,
  note: string,
): void {
  record({
    scenario,
    sent: load.sent(),
    acked: load.acked.size,
    ...t,
    fivexx: load.fivexx(),
    peakRssMb: rss.peakMb(),
    recoverSec,
    note,
  });
}
