/**
 * `payflux loadgen`: scenario traffic against a running PayFlux, to watch an incident happen.
 *
 * Sends batches to `/v1/events/batch` at `rate` events/s for `duration` seconds (both bounded),
 * spread over the processors. Healthy traffic declines 5–12%; the scenario hits `stripe` from a
 * third of the run on. A live display (loadgen-display.ts) shows the rate, request latency
 * percentiles, errors by reason and every processor's band from `GET /v1/risk/processors`;
 * a summary ends the run, whose result says whether anything got through.
 */
import { randomUUID } from 'node:crypto';
import { createFrames, errorsText, latencyText, statusLines, type ProcessorRisk } from './loadgen-display.js';

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
  readonly scenario: string;
  /** The server, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Events per second, 1..MAX_RATE. */
  readonly rate: number;
  /** Seconds, 1..MAX_DURATION_SEC. */
  readonly durationSec: number;
  readonly key: string | undefined;
  readonly processors?: readonly string[];
  readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface LoadgenResult {
  readonly sent: number;
  readonly accepted: number;
  readonly errors: ReadonlyMap<string, number>;
}

export const MAX_RATE = 50_000;
export const MAX_DURATION_SEC = 3600;
const TICK_MS = 100;
/** The live rate and latencies cover the last few seconds. */
const RECENT_MS = 5000;
const REQUEST_TIMEOUT_MS = 5000;

/** The scenarios, one per line: `payflux loadgen --list`. */
export function scenarioList(): string {
  return Object.entries(SCENARIOS)
    .map(([name, s]) => `${name.padEnd(14)} ${s.description}\n`)
    .join('');
}

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

/** Why a request's events were not accepted: the status and error code, or the network error. */
async function failureReason(res: Response): Promise<string> {
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
  return body?.error?.code === undefined ? `HTTP ${res.status}` : `${res.status} ${body.error.code}`;
}

function networkReason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timeout';
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

export async function runLoadgen(o: LoadgenOptions): Promise<LoadgenResult> {
  const shape = SCENARIOS[o.scenario];
  if (shape === undefined) throw new RangeError(`unknown scenario "${o.scenario}" (payflux loadgen --list)`);
  const durationMs = o.durationSec * 1000;
  const base = o.url.replace(/\/$/, '');
  const headers = { authorization: `Bearer ${o.key ?? ''}`, 'content-type': 'application/json' };
  const processors = o.processors ?? ['stripe', 'adyen', 'checkout', 'internal'];
  const healthy = SCENARIOS.healthy as Shape;
  const onsetMs = durationMs / 3;
  const started = Date.now();
  const frames = createFrames(o.out);
  let sent = 0;
  let accepted = 0;
  const errors = new Map<string, number>();
  const fail = (reason: string, n: number): void => void errors.set(reason, (errors.get(reason) ?? 0) + n);
  /** Every request: when it ended, its latency, the events it got accepted. */
  const requests: { at: number; ms: number; accepted: number }[] = [];
  let risk: readonly ProcessorRisk[] | string = 'not known yet';
  let owed = 0;

  const post = async (chunk: readonly Record<string, unknown>[]): Promise<void> => {
    sent += chunk.length;
    const t0 = performance.now();
    let got = 0;
    try {
      const res = await fetch(`${base}/v1/events/batch`, {
        method: 'POST',
        headers,
        body: JSON.stringify(chunk),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (res.ok) {
        const body = (await res.json()) as {
          accepted: number;
          duplicates: number;
          rejected: { error: { code: string } }[];
        };
        got = body.accepted + body.duplicates;
        for (const r of body.rejected) fail(`rejected ${r.error.code}`, 1);
      } else fail(await failureReason(res), chunk.length);
    } catch (err) {
      fail(networkReason(err), chunk.length);
    }
    accepted += got;
    requests.push({ at: Date.now(), ms: performance.now() - t0, accepted: got });
  };

  const refreshRisk = async (): Promise<void> => {
    try {
      const res = await fetch(`${base}/v1/risk/processors`, { headers, signal: AbortSignal.timeout(1000) });
      if (!res.ok) {
        risk = `unavailable (${await failureReason(res)})`;
        return;
      }
      const body = (await res.json()) as { live?: boolean; processors?: ProcessorRisk[] };
      risk = body.live === false ? 'not live on this node' : (body.processors ?? []);
    } catch (err) {
      risk = `unavailable (${networkReason(err)})`;
    }
  };

  const draw = (): void => {
    const now = Date.now();
    const recent = requests.filter((r) => now - r.at <= RECENT_MS);
    const windowMs = Math.min(RECENT_MS, Math.max(1, now - started));
    frames.draw(
      statusLines(
        {
          scenario: o.scenario,
          url: base,
          elapsedMs: now - started,
          durationMs,
          phase: now - started >= onsetMs ? o.scenario : 'healthy',
          sent,
          accepted,
          errors,
          rate: (recent.reduce((n, r) => n + r.accepted, 0) * 1000) / windowMs,
          latencyMs: recent.map((r) => r.ms),
          risk,
        },
        frames.columns,
      ),
    );
  };

  let nextDraw = started;
  while (Date.now() - started < durationMs) {
    const tickStart = Date.now();
    owed += (o.rate * TICK_MS) / 1000;
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
    for (let i = 0; i < events.length; i += 1000) await post(events.slice(i, i + 1000));
    if (Date.now() >= nextDraw) {
      nextDraw += 1000;
      await refreshRisk();
      draw();
    }
    const wait = TICK_MS - (Date.now() - tickStart);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await refreshRisk();
  draw();
  const seconds = (Date.now() - started) / 1000;
  o.out.write(
    `loadgen: ${sent} events sent, ${accepted} accepted in ${seconds.toFixed(1)} s (${(accepted / seconds).toFixed(1)} events/s); ` +
      `latency ${latencyText(requests.map((r) => r.ms))}; errors ${errorsText(errors)}\n`,
  );
  return { sent, accepted, errors };
}
