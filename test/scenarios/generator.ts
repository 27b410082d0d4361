/**
 * A seeded generator of realistic payment traffic for the risk scenario suite.
 *
 * Per processor, events arrive as a Poisson process at 15 events/s times the scenario's rate
 * shape (daily-like waves, growth, incident volume). Each event draws its outcome, failure
 * category, retry count and geo from the scenario's mix at its event time; arrival order adds
 * network jitter, and stream ids follow arrival order like XADD's. Same seed, same traffic.
 */
import type { Envelope } from '../../src/pipeline/types.js';
import { paymentEvent } from '../unit/operators/fixtures.js';

export type Rng = () => number;

/** mulberry32: tiny, fast, good enough for traffic shapes. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface Draw {
  readonly failed: boolean;
  readonly category: string | undefined;
  readonly retries: number;
  readonly geo: string;
  /** `payment_method_bucket`, when the traffic has routes. */
  readonly method?: string;
}

/** What one processor's traffic looks like at event time `t` (seconds from the start). */
export interface TrafficShape {
  /** Events per second at `t`. */
  rate(t: number): number;
  /** One event drawn at `t`. */
  draw(t: number, r: Rng): Draw;
}

export const BASE_RATE = 15;

const DECLINES = ['card_declined', 'insufficient_funds', 'do_not_honor', 'expired_card', 'incorrect_cvc'];
const AUTH = ['authentication_required', '3ds_failed', 'authentication_failed'];
export const USUAL_GEOS: readonly (readonly [string, number])[] = [
  ['US', 0.55],
  ['GB', 0.1],
  ['CA', 0.08],
  ['DE', 0.07],
  ['FR', 0.05],
  ['AU', 0.04],
  ['NL', 0.03],
  ['ES', 0.03],
  ['IT', 0.02],
  ['SE', 0.02],
  ['BR', 0.01],
];
/** Region codes outside the usual mix, for diverse merchants and card testing. */
export const GEO_POOL: readonly string[] = Array.from({ length: 200 }, (_, i) => `R${String(i).padStart(3, '0')}`);

function pick<T>(xs: readonly T[], r: Rng): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function weighted(xs: readonly (readonly [string, number])[], r: Rng): string {
  let u = r();
  for (const [x, w] of xs) if ((u -= w) < 0) return x;
  return xs[0]![0];
}

/** Zipf(1) over `n` geos: a few big markets and a long tail. */
export function zipfGeos(n: number): readonly (readonly [string, number])[] {
  const h = Array.from({ length: n }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b, 0);
  return Array.from(
    { length: n },
    (_, i) => [i < USUAL_GEOS.length ? USUAL_GEOS[i]![0] : GEO_POOL[i]!, 1 / (i + 1) / h] as const,
  );
}

export interface HealthyOptions {
  /** Mean failure rate and the amplitude of its daily-like wave (kept within 5–12%). */
  readonly failureMean?: number;
  readonly failureWave?: number;
  /** Relative amplitude of the volume wave and its period (a compressed day). */
  readonly volumeWave?: number;
  readonly periodSec?: number;
  /** Volume multiplier at `t`, e.g. steady growth. */
  readonly growth?: (t: number) => number;
  readonly geos?: readonly (readonly [string, number])[];
  readonly phase?: number;
}

/**
 * Healthy traffic: 5–12% declines following a daily-like wave plus minute-scale drift, volume
 * with the same wave and ±15% drift over tens of seconds, usual geos, light retries.
 */
export function healthy(o: HealthyOptions = {}): TrafficShape & { failureRate(t: number): number } {
  const mean = o.failureMean ?? 0.085;
  const wave = o.failureWave ?? 0.03;
  const period = o.periodSec ?? 2_400;
  const vWave = o.volumeWave ?? 0.3;
  const phase = o.phase ?? 0;
  const geos = o.geos ?? USUAL_GEOS;
  const growth = o.growth ?? (() => 1);
  const failureRate = (t: number) =>
    Math.min(
      0.12,
      Math.max(0.05, mean + wave * Math.sin((2 * Math.PI * t) / period + phase) + 0.015 * noise(t / 60 + phase * 7)),
    );
  return {
    failureRate,
    rate: (t) =>
      BASE_RATE *
      growth(t) *
      (1 + vWave * Math.sin((2 * Math.PI * t) / period + phase + 1)) *
      (1 + 0.15 * noise(t / 20 + phase * 13)),
    draw: (t, r) => drawOrdinary(failureRate(t), geos, r),
  };
}

/**
 * Smooth pseudo-random noise in [-1, 1] (value noise over integer knots), a pure function of `x`
 * so that shapes stay stateless and every seed sees the same drift.
 */
export function noise(x: number): number {
  const knot = (i: number) => {
    let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return ((h ^ (h >>> 16)) >>> 0) / 2_147_483_648 - 1;
  };
  const i = Math.floor(x);
  const f = x - i;
  const s = f * f * (3 - 2 * f);
  return knot(i) * (1 - s) + knot(i + 1) * s;
}

/** An ordinary payment: declines dominate failures, some timeouts and auth failures. */
export function drawOrdinary(failureRate: number, geos: readonly (readonly [string, number])[], r: Rng): Draw {
  const geo = weighted(geos, r);
  if (r() >= failureRate) return { failed: false, category: undefined, retries: r() < 0.08 ? 1 : 0, geo };
  const u = r();
  const category = u < 0.1 ? 'gateway_timeout' : u < 0.2 ? pick(AUTH, r) : pick(DECLINES, r);
  const v = r();
  return { failed: true, category, retries: v < 0.6 ? 0 : v < 0.85 ? 1 : v < 0.95 ? 2 : 3, geo };
}

/** Mixes an incident into `base` between `from` and `to` seconds. */
export function during(base: TrafficShape, from: number, to: number, incident: TrafficShape): TrafficShape {
  const on = (t: number) => t >= from && t < to;
  return {
    rate: (t) => (on(t) ? incident.rate(t) : base.rate(t)),
    draw: (t, r) => (on(t) ? incident.draw(t, r) : base.draw(t, r)),
  };
}

export interface Arrival {
  /** Seconds between event time and arrival: network and producer jitter. */
  jitter(r: Rng): number;
}

export const MILD_JITTER: Arrival = { jitter: (r) => r() * 0.3 };
/** Heavy jitter: 1.5 s mean, 2% of events 5–60 s late (some beyond the allowed lateness). */
export const HEAVY_JITTER: Arrival = { jitter: (r) => (r() < 0.02 ? 5 + r() * 55 : -Math.log(1 - r()) * 1.5) };

/**
 * Stamps envelopes in arrival order: stream ids follow arrival like XADD's, and the event's
 * timestamp string is built from a prefix cached per minute (toISOString per event would
 * dominate the suite's runtime).
 */
function envelopeMaker(): (arrive: number, at: number, name: string, d: Draw) => Envelope {
  let seq = 0;
  let lastMs = 0;
  let minute = NaN;
  let prefix = '';
  const iso = (ms: number) => {
    const m = Math.floor(ms / 60_000);
    if (m !== minute) {
      minute = m;
      prefix = new Date(m * 60_000).toISOString().slice(0, 17);
    }
    const rest = ms - m * 60_000;
    const sec = Math.floor(rest / 1000);
    const milli = rest - sec * 1000;
    return `${prefix}${sec < 10 ? '0' : ''}${sec}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  };
  return (arrive, at, name, d) => {
    const ms = Math.max(lastMs, Math.floor(arrive));
    seq = ms === lastMs ? seq + 1 : 0;
    lastMs = ms;
    const event = paymentEvent({
      at,
      timestamp: iso(at),
      processor: name,
      failed: d.failed,
      category: d.category,
      retries: d.retries,
      geo: d.geo,
      method: d.method,
    });
    return {
      id: `${ms}-${seq}`,
      idMs: ms,
      idSeq: seq,
      event,
      eventJson: undefined,
      eventTimeMs: at,
      ingestedAtMs: ms,
      deliveries: 1,
      risk: undefined,
      tier: undefined,
    };
  };
}

interface Timed {
  readonly arrive: number;
  readonly at: number;
  readonly d: Draw;
}

/**
 * One processor's envelopes over `durationSec`, handed to `onBatch` `batchSize` at a time in
 * arrival order: exactly `generate`'s envelopes for that processor alone, without holding the
 * run in memory (a simulated day of a busy processor is millions of envelopes, and keeping
 * them alive made the garbage collector a third of the suite's time). Arrival is never before
 * event time, so an event arriving no later than the newest event time drawn can be handed
 * over: nothing drawn later arrives before it. Returns the number of envelopes.
 */
export function stream(
  p: { readonly name: string; readonly shape: TrafficShape; readonly arrival?: Arrival },
  durationSec: number,
  seed: number,
  startMs: number,
  batchSize: number,
  onBatch: (entries: Envelope[]) => void,
): number {
  const r = rng(seed);
  const arrival = p.arrival ?? MILD_JITTER;
  const make = envelopeMaker();
  let pending: Timed[] = [];
  let batch: Envelope[] = [];
  let count = 0;
  let t = 0;
  for (;;) {
    t += -Math.log(1 - r()) / Math.max(0.01, p.shape.rate(t));
    const done = t >= durationSec;
    let newest = Infinity;
    if (!done) {
      const at = startMs + Math.floor(t * 1000);
      const arrive = at + arrival.jitter(r) * 1000;
      pending.push({ arrive, at, d: p.shape.draw(t, r) });
      newest = at;
      if (pending.length < 1024) continue;
    }
    // Stable: equal arrivals keep the order they were drawn in, as in `generate`'s sort.
    pending.sort((a, b) => a.arrive - b.arrive);
    let i = 0;
    for (; i < pending.length; i++) {
      const e = pending[i]!;
      if (e.arrive > newest) break;
      batch.push(make(e.arrive, e.at, p.name, e.d));
      count++;
      if (batch.length === batchSize) {
        onBatch(batch);
        batch = [];
      }
    }
    pending = pending.slice(i);
    if (done) break;
  }
  if (batch.length > 0) onBatch(batch);
  return count;
}

/**
 * Envelopes for `processors` over `durationSec`, in arrival order, starting at `startMs`.
 */
export function generate(
  processors: readonly { readonly name: string; readonly shape: TrafficShape; readonly arrival?: Arrival }[],
  durationSec: number,
  seed: number,
  startMs: number,
): Envelope[] {
  const r = rng(seed);
  const timed: { arrive: number; at: number; name: string; d: Draw }[] = [];
  for (const p of processors) {
    const arrival = p.arrival ?? MILD_JITTER;
    let t = 0;
    for (;;) {
      t += -Math.log(1 - r()) / Math.max(0.01, p.shape.rate(t));
      if (t >= durationSec) break;
      const at = startMs + Math.floor(t * 1000);
      timed.push({ arrive: at + arrival.jitter(r) * 1000, at, name: p.name, d: p.shape.draw(t, r) });
    }
  }
  timed.sort((a, b) => a.arrive - b.arrive);
  const make = envelopeMaker();
  return timed.map(({ arrive, at, name, d }) => make(arrive, at, name, d));
}
