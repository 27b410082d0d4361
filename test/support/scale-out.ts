/**
 * A scale-out topology of real `payflux serve` processes for ground-truth and chaos tests:
 * ingest nodes and consumer nodes on one Redis (standalone or Cluster), scenario traffic sent
 * in per-processor order, and the comparison with `payflux backtest` over the same events.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { ExportLine } from './export-lines.js';
import { API_KEY } from './payflux-env.js';
import { startPayflux, type PayfluxProcess } from './payflux-process.js';
import { syntheticTraffic } from './events.js';
import { poll } from './poll.js';
import { rendezvousOwner } from '../../src/rendezvous.js';
import { freePort } from './redis-server.js';
import { CLI, EMPTY_CWD, childEnv } from './run-cli.js';
import type { Suite } from './use-suite.js';

const run = promisify(execFile);

export const PROCESSORS = ['stripe', 'adyen', 'checkout'];

/** What the topology shares: where Redis is and the names under the test's prefix. */
export function baseEnv(redis: { addr?: string; clusterNodes?: string }, prefix: string): Record<string, string> {
  return {
    ...(redis.clusterNodes !== undefined
      ? { REDIS_CLUSTER_NODES: redis.clusterNodes }
      : { REDIS_ADDR: redis.addr ?? '' }),
    PAYFLUX_BUFFER: 'redis',
    PAYFLUX_KEY_PREFIX: prefix,
    PAYFLUX_STREAM: `${prefix}events`,
    PAYFLUX_DLQ_STREAM: `${prefix}dlq`,
    PAYFLUX_PROCESSORS: PROCESSORS.join(','),
    PAYFLUX_API_KEYS: API_KEY,
    PAYFLUX_RATELIMIT_RPS: '0',
    PAYFLUX_LOG_LEVEL: 'info',
    PAYFLUX_TIER: 'tier2',
    PAYFLUX_PILOT_MODE: 'true',
    PAYFLUX_WARNING_COOLDOWN_SEC: '60',
    PAYFLUX_SHUTDOWN_TIMEOUT_SEC: '10',
    PAYFLUX_READ_COUNT: '200',
    PAYFLUX_LEASE_TTL_MS: '3000',
  };
}

/**
 * Waits until every partition is held by the consumer rendezvous hashing gives it among the
 * live consumers (membership settled), so that traffic starts on a stable assignment.
 */
export async function settled(t: Topology): Promise<void> {
  const names = t.consumers.filter((c) => c.alive()).map((c) => c.env.PAYFLUX_CONSUMER_NAME ?? '');
  const members = [...names].sort();
  await poll(
    'every partition with its rendezvous owner',
    () => PROCESSORS.every((p) => ownerOf(t, p)?.env.PAYFLUX_CONSUMER_NAME === rendezvousOwner(p, members)),
    (yes) => yes,
    { timeoutMs: 60_000, context: () => t.consumers.map((c) => c.stderrTail()).join('\n') },
  );
}

export interface Topology {
  readonly ingest: PayfluxProcess[];
  readonly consumers: PayfluxProcess[];
}

export async function startTopology(
  s: Suite,
  env: Record<string, string>,
  o: { ingest: number; consumers: number },
): Promise<Topology> {
  const ingest: PayfluxProcess[] = [];
  const consumers: PayfluxProcess[] = [];
  const spawnOne = async (role: string, name: string): Promise<PayfluxProcess> =>
    startPayflux(s, {
      ...env,
      HTTP_ADDR: `127.0.0.1:${await freePort()}`,
      PAYFLUX_ROLE: role,
      PAYFLUX_CONSUMER_NAME: name,
    });
  for (let i = 0; i < o.consumers; i++) consumers.push(await spawnOne('consumer', `c${i + 1}`));
  for (let i = 0; i < o.ingest; i++) ingest.push(await spawnOne('ingest', `i${i + 1}`));
  return { ingest, consumers };
}

/**
 * Scenario traffic, `seconds` long, ending ~6 min ago: every processor sends each second; stripe
 * has a timeout outage (an incident) in the middle; adyen a smaller decline burst.
 */
export function scenario(seconds: number): Record<string, unknown>[] {
  return syntheticTraffic({
    seconds,
    perSecond: 9,
    seed: 17,
    idPrefix: 'gt',
    processorOf: (k) => PROCESSORS[k % 3] as string,
    failure: (processor, s) => {
      const outage = processor === 'stripe' && s >= seconds * 0.3 && s < seconds * 0.55;
      const burst = processor === 'adyen' && s >= seconds * 0.6 && s < seconds * 0.7;
      return { rate: outage ? 0.9 : burst ? 0.5 : 0.06, outage };
    },
  });
}

/**
 * Sends `events` in batches, one at a time and alternating between the ingest nodes, so that
 * each processor's events are stored in file order; a 503 is retried. `during(i)` runs before
 * batch `i` (chaos hooks). Resolves with how many attempts were answered 503.
 */
export async function send(
  nodes: readonly PayfluxProcess[],
  events: readonly Record<string, unknown>[],
  o: { size?: number; during?: (batch: number) => Promise<void> } = {},
): Promise<number> {
  const size = o.size ?? 200;
  let refused = 0;
  for (let i = 0, b = 0; i < events.length; i += size, b++) {
    await o.during?.(b);
    const body = JSON.stringify(events.slice(i, i + size));
    for (let attempt = 0; ; attempt++) {
      const node = nodes[(b + attempt) % nodes.length] as PayfluxProcess;
      const res = await fetch(`${node.url}/v1/events/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(5000),
      }).catch(() => undefined);
      if (res?.status === 200) break;
      if (res?.status === 503) refused++;
      if (attempt > 50) throw new Error(`batch ${b} not accepted: ${res?.status ?? 'no answer'}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return refused;
}

export interface Backtest {
  readonly lines: Map<string, ExportLine>;
  readonly incidents: readonly Record<string, unknown>[];
}

/** `payflux backtest` over `events` (written to a file in `dir`), with the topology's risk settings. */
export async function backtest(dir: string, events: readonly Record<string, unknown>[]): Promise<Backtest> {
  const file = join(dir, 'events.ndjson');
  writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const report = join(dir, 'report.json');
  const { stdout } = await run(process.execPath, [CLI, 'backtest', file, '--report', report], {
    cwd: EMPTY_CWD,
    env: childEnv({ PAYFLUX_TIER: 'tier2', PAYFLUX_LOG_LEVEL: 'silent', PAYFLUX_WARNING_COOLDOWN_SEC: '60' }),
    maxBuffer: 256 * 1024 * 1024,
  });
  const lines = new Map<string, ExportLine>();
  for (const l of stdout.trim().split('\n')) {
    const line = JSON.parse(l) as ExportLine;
    lines.set(line.event_id, line);
  }
  const r = JSON.parse(readFileSync(report, 'utf8')) as { incidents: Record<string, unknown>[] };
  return { lines, incidents: r.incidents };
}

const RISK_FIELDS = [
  'processor_risk_score',
  'processor_risk_band',
  'processor_risk_drivers',
  'processor_playbook_context',
  'risk_trajectory',
] as const;

export const riskOf = (l: ExportLine): string =>
  JSON.stringify(RISK_FIELDS.map((f) => (l as unknown as Record<string, unknown>)[f]));

/** Every consumer's export lines, all generations. */
export function exported(t: Topology): ExportLine[] {
  return t.consumers.flatMap((c) => c.exported()).filter((l) => l.type === 'payment_event');
}

/**
 * The live output equals the backtest: every event exported, each line's risk fields the
 * backtest's (duplicates identical); returns how many lines were duplicates.
 */
export function expectEqualsBacktest(lines: readonly ExportLine[], truth: Backtest): number {
  const seen = new Map<string, number>();
  for (const l of lines) {
    const want = truth.lines.get(l.event_id);
    expect(want, `${l.event_id} exported but not in the backtest`).toBeDefined();
    if (want !== undefined) expect(riskOf(l), l.event_id).toBe(riskOf(want));
    seen.set(l.event_id, (seen.get(l.event_id) ?? 0) + 1);
  }
  expect([...truth.lines.keys()].filter((id) => !seen.has(id))).toEqual([]);
  let duplicates = 0;
  for (const n of seen.values()) duplicates += n - 1;
  return duplicates;
}

const INCIDENT_FIELDS = [
  'warning_id',
  'processor',
  'opened_at',
  'resolved_at',
  'status',
  'peak_score',
  'peak_band',
  'event_count',
];
const pickIncident = (i: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(INCIDENT_FIELDS.map((f) => [f, i[f]]));

/** Exactly the backtest's incidents as warnings, one per episode, from any node. */
export async function expectWarningsEqualIncidents(node: PayfluxProcess, truth: Backtest): Promise<void> {
  const res = await fetch(`${node.url}/pilot/warnings?limit=500`, { headers: { authorization: `Bearer ${API_KEY}` } });
  const body = (await res.json()) as { warnings: Record<string, unknown>[] };
  const byId = (a: Record<string, unknown>, b: Record<string, unknown>): number =>
    String(a.warning_id).localeCompare(String(b.warning_id));
  expect(body.warnings.map(pickIncident).sort(byId)).toEqual(truth.incidents.map(pickIncident).sort(byId));
}

/** The consumer whose lease holds `processor`'s partition now (from the consumers' logs). */
export function ownerOf(t: Topology, processor: string): PayfluxProcess | undefined {
  let best: { p: PayfluxProcess; at: number } | undefined;
  for (const c of t.consumers) {
    if (!c.alive()) continue;
    for (const line of c.stderrLines()) {
      if (!line.includes(`"partition":"${processor}"`)) continue;
      const at = Date.parse(/"time":"([^"]+)"/.exec(line)?.[1] ?? '');
      const acquired = line.includes('partition_acquired');
      const released = line.includes('partition_released');
      if (acquired && (best === undefined || at > best.at)) best = { p: c, at };
      if (released && best?.p === c) best = undefined;
    }
  }
  return best?.p;
}
