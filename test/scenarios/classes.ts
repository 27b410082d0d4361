/**
 * Traffic classes for the detection-quality table: normal traffic at 0.5–500 events/s and
 * 3–35% failures with seasonality, growth, drops, flash sales and drift (healthy classes: every
 * alarm is false), and labelled anomalies of several sizes (partial and full outages, decline
 * shifts, segment outages, a processor failing from its first event). `casesOf(full)` is the
 * fast grid of `npm test`, or with `full` the many-seed grid of `npm run scenarios:full`.
 */
import { USUAL_GEOS, drawOrdinary, noise } from './generator.js';
import type { Draw, Rng, TrafficShape } from './generator.js';

export interface NormalOptions {
  /** Mean events per second and mean failure rate. */
  readonly rate: number;
  readonly failure: number;
  /** Length of a simulated day (seconds). */
  readonly periodSec: number;
  /** Volume multiplier at `t` (growth, drops, flash sales). */
  readonly volume?: (t: number) => number;
  /** Relative change of the failure rate at `t` (drift). */
  readonly drift?: (t: number) => number;
  readonly phase?: number;
  /** Payment methods (`payment_method_bucket`) and their shares; none by default. */
  readonly methods?: readonly (readonly [string, number])[];
}

/**
 * Normal traffic: volume ±50% over the day with ±15% drift over tens of seconds; the failure
 * rate ±30% (relative) over the day with ±12% minute-scale drift; usual geos, light retries.
 */
export function normal(o: NormalOptions): TrafficShape & { failureRate(t: number): number } {
  const phase = o.phase ?? 0;
  const w = (t: number) => (2 * Math.PI * t) / o.periodSec + phase;
  const failureRate = (t: number) =>
    Math.min(
      0.95,
      Math.max(
        0.002,
        o.failure * (1 + 0.3 * Math.sin(w(t) + 0.5) + 0.12 * noise(t / 60 + phase * 7)) * (1 + (o.drift?.(t) ?? 0)),
      ),
    );
  return {
    failureRate,
    rate: (t) => o.rate * (1 + 0.5 * Math.sin(w(t))) * (1 + 0.15 * noise(t / 20 + phase * 13)) * (o.volume?.(t) ?? 1),
    draw:
      o.methods === undefined
        ? (t, r) => drawOrdinary(failureRate(t), USUAL_GEOS, r)
        : withMethod(o.methods, failureRate),
  };
}

/** Cards, wallets and bank transfers: the routes of a processor with routes. */
const METHODS: readonly (readonly [string, number])[] = [
  ['card', 0.7],
  ['wallet', 0.2],
  ['bank_transfer', 0.1],
];

/** Ordinary payments, each on a method drawn by its share. */
function withMethod(methods: readonly (readonly [string, number])[], failureRate: (t: number) => number) {
  return (t: number, r: Rng): Draw => {
    let u = r();
    let method = methods[0]?.[0] ?? '';
    for (const [m, w] of methods) {
      if ((u -= w) < 0) {
        method = m;
        break;
      }
    }
    return { ...drawOrdinary(failureRate(t), USUAL_GEOS, r), method };
  };
}

export interface ClassCase {
  readonly klass: string;
  /** "80/s 12%" and the incident size, for the table. */
  readonly label: string;
  readonly rate: number;
  readonly failure: number;
  readonly durationSec: number;
  /** Labelled anomaly; none in healthy classes. */
  readonly onsetSec?: number;
  readonly endSec?: number;
  readonly warmupSec: number;
  readonly shape: TrafficShape;
  readonly seed: number;
  /**
   * The anomaly is clearly outside the noise for the volume at hand (`clearly`). Those must be
   * caught; the others are reported.
   */
  readonly clear: boolean;
}

type Incident = (base: ReturnType<typeof normal>, size: number) => TrafficShape;
/** The excess failure rate an incident of `size` adds on a normal rate `p`. */
type Excess = (size: number, p: number) => number;

const timeouts: Incident = (base, share) => ({
  rate: base.rate,
  draw: (t, r) =>
    r() < share ? { failed: true, category: 'gateway_timeout', retries: 0, geo: 'US' } : base.draw(t, r),
});

const declineShift: Incident = (base, points) => ({
  rate: base.rate,
  draw: (t, r) => drawOrdinary(Math.min(0.98, base.failureRate(t) + points), USUAL_GEOS, r),
});

/** Wallet payments (a fifth of the traffic) fail at `rate`: a broken route (payment method). */
const routeOutage: Incident = (base, rate) => ({
  rate: base.rate,
  draw: (t, r): Draw => {
    const d = base.draw(t, r);
    if (d.method !== 'wallet') return d;
    // Failures of the usual kinds, only many more of them on this route.
    return { ...drawOrdinary(rate, [[d.geo, 1]], r), method: 'wallet' };
  },
});

/** One geo carrying `share` of the traffic goes to 85% declines (an issuer outage). */
const geoOutage: Incident = (base, share) => ({
  rate: base.rate,
  draw: (t, r): Draw => {
    if (r() >= share) return base.draw(t, r);
    const failed = r() < 0.85;
    return { failed, category: failed ? 'issuer_unavailable' : undefined, retries: 0, geo: 'BR' };
  },
});

interface ClassDef {
  readonly name: string;
  readonly description: string;
  /** Healthy classes have no incident. */
  readonly incident?: {
    readonly shape: Incident;
    readonly sizes: readonly number[];
    readonly unit: string;
    readonly excess: Excess;
  };
  readonly volume?: (t: number, o: { onset: number; duration: number }) => number;
  readonly drift?: (t: number, o: { onset: number; duration: number }) => number;
  /** The anomaly starts with the first event (a processor failing from the start). */
  readonly fromStart?: boolean;
  /** Its traffic carries payment methods. */
  readonly routes?: boolean;
}

export const CLASSES: readonly ClassDef[] = [
  { name: 'steady', description: 'normal traffic with its daily wave' },
  {
    name: 'growth',
    description: 'volume growing ×3 over the run',
    volume: (t, o) => 1 + (2 * t) / o.duration,
  },
  {
    name: 'drop',
    description: 'volume dropping to a fifth for 10 minutes, then back',
    volume: (t, o) => (t >= o.onset && t < o.onset + 600 ? 0.2 : 1),
  },
  {
    name: 'flash-sale',
    description: 'volume ×6 for 10 minutes with a normal failure rate',
    volume: (t, o) => (t >= o.onset && t < o.onset + 600 ? 6 : 1),
  },
  {
    name: 'drift',
    description: 'decline rate drifting up by half over 30 minutes, then back',
    drift: (t, o) => 0.5 * Math.max(0, 1 - Math.abs(t - o.onset) / 1_800),
  },
  {
    name: 'partial-outage',
    description: 'a share of payments time out',
    incident: { shape: timeouts, sizes: [0.1, 0.25], unit: 'time out', excess: (s, p) => s * (1 - p) },
  },
  {
    name: 'full-outage',
    description: '95% of payments time out',
    incident: { shape: timeouts, sizes: [0.95], unit: 'time out', excess: (s, p) => s * (1 - p) },
  },
  {
    name: 'decline-shift',
    description: 'declines up by 10 or 20 percentage points',
    incident: { shape: declineShift, sizes: [0.1, 0.2], unit: 'points', excess: (s) => s },
  },
  {
    name: 'geo-outage',
    description: 'one geo (10% or 25% of traffic) at 85% declines',
    incident: { shape: geoOutage, sizes: [0.1, 0.25], unit: 'of traffic', excess: (s, p) => s * (0.85 - p) },
  },
  {
    name: 'route-outage',
    description: 'wallet payments (a fifth of the traffic) failing at 50% or 85%',
    routes: true,
    incident: { shape: routeOutage, sizes: [0.5, 0.85], unit: 'wallets failing', excess: (s, p) => 0.2 * (s - p) },
  },
  {
    name: 'bad-from-start',
    description: 'a processor at 50% failures from its first event',
    fromStart: true,
    incident: { shape: declineShift, sizes: [0.42], unit: 'points', excess: (s) => s },
  },
];

/** [events/s, normal failure rate] pairs of the grids. */
const FAST_PROFILES: readonly (readonly [number, number])[] = [
  [0.5, 0.12],
  [15, 0.03],
  [80, 0.12],
  [500, 0.35],
];
const FULL_PROFILES: readonly (readonly [number, number])[] = [0.5, 5, 15, 80, 500].flatMap((rate) =>
  [0.03, 0.12, 0.35].map((f) => [rate, f] as const),
);

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Seeds per case of the full grid. */
export const FULL_SEEDS = 2;

/** Every case of every class: the fast grid (one seed) or the full one (`seeds` seeds, longer days). */
export function casesOf(full: boolean, seeds = full ? FULL_SEEDS : 1): ClassCase[] {
  const out: ClassCase[] = [];
  for (const c of CLASSES) {
    for (const [rate, failure] of full ? FULL_PROFILES : FAST_PROFILES) {
      // Busy profiles run shorter: the event count, not event time, is what costs. The full
      // grid gives the healthy classes of quiet profiles whole simulated days (what false
      // warnings per day are counted over); an incident needs its warm-up, itself and a tail.
      const duration =
        full && c.incident === undefined
          ? rate >= 500
            ? 1_800
            : rate >= 80
              ? 3_600
              : rate >= 15
                ? 21_600
                : 86_400
          : rate >= 500
            ? 1_800
            : rate >= 80
              ? 2_400
              : 3_600;
      // A simulated day is 24 h; a short run covers a slice of it, its phase set by the seed.
      const periodSec = 86_400;
      const onset = c.fromStart ? 0 : Math.min(1_200, duration / 2);
      const o = { onset, duration };
      const sizes = c.incident?.sizes ?? [undefined];
      for (const size of sizes) {
        for (let seed = 1; seed <= seeds; seed++) {
          const base = normal({
            rate,
            failure,
            periodSec,
            phase: seed * 1.7 + rate,
            ...(c.volume ? { volume: (t: number) => c.volume!(t, o) } : {}),
            ...(c.drift ? { drift: (t: number) => c.drift!(t, o) } : {}),
            ...(c.routes === true ? { methods: METHODS } : {}),
          });
          const incident = c.incident && size !== undefined ? c.incident.shape(base, size) : undefined;
          const end = c.fromStart ? duration : onset + 300;
          out.push({
            klass: c.name,
            label: `${rate}/s ${pct(failure)}${size === undefined ? '' : `, ${c.incident?.unit === 'points' ? `+${Math.round(size * 100)} pts` : `${pct(size)} ${c.incident?.unit}`}`}`,
            rate,
            failure,
            durationSec: duration,
            ...(incident ? { onsetSec: onset, endSec: end } : {}),
            warmupSec: 720,
            shape: incident ? during(base, onset, end, incident) : base,
            seed,
            clear:
              c.incident !== undefined &&
              size !== undefined &&
              clearly(c.incident.excess(size, failure), rate, failure),
          });
        }
      }
    }
  }
  return out;
}

/**
 * Clear: over 30 s, the excess failures are at least 3 standard deviations of binomial noise
 * plus the ordinary drift of a processor's rate (the model's prior, 0.15·p + 0.005).
 */
function clearly(excess: number, rate: number, p: number): boolean {
  const n = 30 * rate;
  const drift = (0.15 * p + 0.005) * n;
  return excess * n >= 3 * Math.sqrt(n * p * (1 - p) + drift * drift);
}

function during(base: TrafficShape, from: number, to: number, incident: TrafficShape): TrafficShape {
  const on = (t: number) => t >= from && t < to;
  return {
    rate: (t) => (on(t) ? incident.rate(t) : base.rate(t)),
    draw: (t, r: Rng) => (on(t) ? incident.draw(t, r) : base.draw(t, r)),
  };
}
