/**
 * `payflux loadgen`: scenario traffic against a running PayFlux, to watch an incident happen.
 *
 * Sends batches to `/v1/events/batch` at `rate` events/s for `duration` seconds (both bounded),
 * spread over the configured processors. Healthy traffic declines 5–12%; the scenario hits
 * `stripe` from a third of the run on. Once a second it prints sent/accepted/errors and every
 * processor's band from `GET /v1/risk/processors` (redrawn in place on a terminal).
 */
import { randomUUID } from 'node:crypto';

interface Shape {
  readonly description: string;
  /** Probability that an event fails, and how it fails. */
  readonly failureRate: number;
  readonly category: () => string;
  readonly retries: () => number;
  readonly geos: number;
  /** Volume multiplier for the affected processor. */
  readonly volume: number;
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
const declines = ['card_declined', 'insufficient_funds', 'do_not_honor', 'expired_card'];

export const SCENARIOS: Readonly<Record<string, Shape>> = {
  healthy: {
    description: 'normal traffic, 5–12% declines',
    failureRate: 0.08,
    category: () => pick(declines),
    retries: () => (Math.random() < 0.1 ? 1 : 0),
    geos: 4,
    volume: 1,
  },
  outage: {
    description: 'processor outage: 95% timeouts',
    failureRate: 0.95,
    category: () => 'gateway_timeout',
    retries: () => 1 + Math.floor(Math.random() * 3),
    geos: 4,
    volume: 1,
  },
  retry_storm: {
    description: 'clients retrying hard: 4+ retries, 45% failures',
    failureRate: 0.45,
    category: () => pick(declines),
    retries: () => 4 + Math.floor(Math.random() * 4),
    geos: 4,
    volume: 2,
  },
  card_testing: {
    description: 'card testing: ×7 volume, 70% declines, many geos',
    failureRate: 0.7,
    category: () => pick(declines),
    retries: () => 0,
    geos: 60,
    volume: 7,
  },
  auth_cluster: {
    description: 'authentication failures cluster: 3DS and auth errors',
    failureRate: 0.5,
    category: () => pick(['auth_failure', '3ds_failed', 'authentication_required']),
    retries: () => 1,
    geos: 4,
    volume: 1,
  },
};

export interface LoadgenOptions {
  readonly scenario: string | undefined;
  readonly url: string | undefined;
  readonly rate: number | undefined;
  readonly durationSec: number | undefined;
  readonly key: string | undefined;
  readonly list: boolean;
  readonly processors?: readonly string[];
  readonly out: NodeJS.WritableStream & { isTTY?: boolean };
}

const MAX_RATE = 50_000;
const MAX_DURATION_SEC = 3600;
const TICK_MS = 100;

function event(processor: string, shape: Shape): Record<string, unknown> {
  const failed = Math.random() < shape.failureRate;
  // In the export line's field order: the stored form, which ingest stores as sent.
  return {
    event_id: randomUUID(),
    event_type: failed ? 'payment_failed' : 'payment_succeeded',
    event_timestamp: new Date().toISOString(),
    processor,
    merchant_id_hash: `m_${Math.floor(Math.random() * 50)}`,
    failure_category: failed ? shape.category() : undefined,
    geo_bucket: `G${Math.floor(Math.random() * shape.geos)}`,
    retry_count: failed ? shape.retries() : 0,
  };
}

export async function runLoadgen(o: LoadgenOptions): Promise<void> {
  if (o.list) {
    for (const [name, s] of Object.entries(SCENARIOS)) o.out.write(`${name.padEnd(14)} ${s.description}\n`);
    return;
  }
  const name = o.scenario ?? 'outage';
  const shape = SCENARIOS[name];
  if (shape === undefined) throw new Error(`unknown scenario "${name}" (payflux loadgen --list)`);
  const rate = Math.min(MAX_RATE, Math.max(1, o.rate ?? 60));
  const durationMs = Math.min(MAX_DURATION_SEC, Math.max(1, o.durationSec ?? 180)) * 1000;
  const base = (o.url ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  const headers = { authorization: `Bearer ${o.key ?? ''}`, 'content-type': 'application/json' };
  const processors = o.processors ?? ['stripe', 'adyen', 'checkout', 'internal'];
  const healthy = SCENARIOS.healthy as Shape;
  const onsetMs = durationMs / 3;
  const started = Date.now();
  let sent = 0;
  let accepted = 0;
  let errors = 0;
  let lastStatus = '';
  let owed = 0;

  const status = async (): Promise<void> => {
    try {
      const res = await fetch(`${base}/v1/risk/processors`, { headers });
      const body = (await res.json()) as { processors?: { processor: string; band: string; score: number }[] };
      lastStatus = (body.processors ?? []).map((p) => `${p.processor}=${p.band}(${p.score.toFixed(2)})`).join(' ');
    } catch {
      lastStatus = 'risk state unavailable';
    }
    const t = ((Date.now() - started) / 1000).toFixed(0);
    const phase = Date.now() - started >= onsetMs ? name : 'healthy';
    const line = `t=${t}s phase=${phase} sent=${sent} accepted=${accepted} errors=${errors} | ${lastStatus}`;
    o.out.write(o.out.isTTY === true ? `\r\x1b[K${line}` : `${line}\n`);
  };

  let nextStatus = started;
  while (Date.now() - started < durationMs) {
    const tickStart = Date.now();
    owed += (rate * TICK_MS) / 1000;
    const n = Math.floor(owed);
    owed -= n;
    const incident = tickStart - started >= onsetMs;
    const events: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const processor = processors[i % processors.length] as string;
      const hit = incident && processor === 'stripe';
      events.push(event(processor, hit ? shape : healthy));
      // The scenario's extra volume for the processor it hits.
      if (hit) for (let k = 1; k < shape.volume; k++) events.push(event(processor, shape));
    }
    for (let i = 0; i < events.length; i += 1000) {
      const chunk = events.slice(i, i + 1000);
      sent += chunk.length;
      try {
        const res = await fetch(`${base}/v1/events/batch`, { method: 'POST', headers, body: JSON.stringify(chunk) });
        if (res.ok) accepted += ((await res.json()) as { accepted: number }).accepted;
        else errors += chunk.length;
      } catch {
        errors += chunk.length;
      }
    }
    if (Date.now() >= nextStatus) {
      nextStatus += 1000;
      await status();
    }
    const wait = TICK_MS - (Date.now() - tickStart);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await status();
  o.out.write('\n');
}
