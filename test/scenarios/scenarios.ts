/**
 * The scenario catalogue: traffic shapes from `generator.ts` plus what the adaptive model is
 * expected to do with them (issue 4, Targets). Times are event-time seconds from the start.
 */
import type { RiskDriver } from '../../src/risk-terms.js';
import { BASE_RATE, GEO_POOL, HEAVY_JITTER, USUAL_GEOS, drawOrdinary, during, healthy, zipfGeos } from './generator.js';
import type { Arrival, Draw, Rng, TrafficShape } from './generator.js';

export interface Expectations {
  readonly elevatedWithinSec?: number;
  readonly highWithinSec?: number;
  readonly criticalWithinSec?: number;
  /** Drivers that must be named while the band is elevated or worse during the incident. */
  readonly drivers?: readonly RiskDriver[];
  /** Elevated before the failure rate passes 35% (slow degradation), seconds from onset. */
  readonly flaggedBeforeSec?: number;
  /** Back to low within this many seconds after the incident ends. */
  readonly recoverWithinSec?: number;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly durationSec: number;
  readonly onsetSec?: number;
  readonly endSec?: number;
  readonly shape: TrafficShape;
  readonly arrival?: Arrival;
  readonly expect: Expectations;
}

/** No false-positive episodes are judged before this: a 6-minute warm-up. */
export const WARMUP_SEC = 360;
/** An episode is elevated-or-worse lasting longer than this. */
export const EPISODE_SEC = 20;

const WARM = 720;
const INCIDENT = 300;
const RECOVERY = 480;

const base = healthy();
const pickOf = <T>(xs: readonly T[], r: Rng): T => xs[Math.floor(r() * xs.length)] as T;

function incident(name: string, description: string, shape: TrafficShape, expect: Expectations): Scenario {
  return {
    name,
    description,
    durationSec: WARM + INCIDENT + RECOVERY,
    onsetSec: WARM,
    endSec: WARM + INCIDENT,
    shape: during(base, WARM, WARM + INCIDENT, shape),
    expect: { recoverWithinSec: 120, ...expect },
  };
}

function mixed(rateFactor: number, share: number, special: (t: number, r: Rng) => Draw): TrafficShape {
  return {
    rate: (t) => base.rate(t) * rateFactor,
    draw: (t, r) => (r() < share ? special(t, r) : base.draw(t, r)),
  };
}

const CLIMB = 1_200;
const climbRate = (t: number) => Math.min(0.45, 0.08 + ((0.45 - 0.08) * Math.max(0, t - 600)) / CLIMB);

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'healthy',
    description: '5–12% declines with noise, daily-like waves of volume and declines',
    durationSec: 3_600,
    shape: base,
    expect: {},
  },
  {
    name: 'geo-diverse',
    description: 'merchant selling into 60 geos with a long tail, at its usual spread',
    durationSec: 2_400,
    shape: healthy({ geos: zipfGeos(60) }),
    expect: {},
  },
  {
    name: 'growth',
    description: 'steady growth from 15 to 45 events/s over an hour',
    durationSec: 3_600,
    shape: healthy({ growth: (t) => 1 + (2 * t) / 3_600 }),
    expect: {},
  },
  {
    name: 'low-volume',
    description: 'a quiet processor: the same healthy traffic at 1 event/s',
    durationSec: 3_600,
    shape: { rate: (t) => base.rate(t) / BASE_RATE, draw: base.draw },
    expect: {},
  },
  {
    name: 'jitter',
    description: 'arrival jitter: 1.5 s mean, 2% of events 5–60 s late',
    durationSec: 2_400,
    shape: base,
    arrival: HEAVY_JITTER,
    expect: {},
  },
  incident(
    'outage',
    'full processor outage: 95% of events time out',
    mixed(1, 0.95, (_t, r) => ({ failed: true, category: 'gateway_timeout', retries: r() < 0.3 ? 1 : 0, geo: 'US' })),
    { highWithinSec: 30, criticalWithinSec: 120, drivers: ['high_failure_rate', 'timeout_clustering'] },
  ),
  incident(
    'retry-storm',
    'retries double the volume: retry counts 1–4, 35% of them fail',
    mixed(2, 0.5, (_t, r) => {
      const failed = r() < 0.35;
      return {
        failed,
        category: failed ? pickOf(['do_not_honor', 'card_declined', 'processing_error'], r) : undefined,
        retries: 1 + Math.floor(r() * 4),
        geo: 'US',
      };
    }),
    { elevatedWithinSec: 60, drivers: ['retry_pressure_spike'] },
  ),
  incident(
    'card-testing',
    'card testing: ×7 volume, 70% declines overall, cards from many geos',
    mixed(7, 6 / 7, (_t, r) => {
      const failed = r() < 0.8;
      return {
        failed,
        category: failed ? pickOf(['card_declined', 'incorrect_cvc', 'invalid_number'], r) : undefined,
        retries: 0,
        geo: pickOf(GEO_POOL.slice(60, 180), r),
      };
    }),
    { highWithinSec: 30, drivers: ['high_failure_rate', 'geo_entropy_increase'] },
  ),
  incident(
    'auth-cluster',
    'authentication failures (3DS, SCA) on 12% of payments',
    mixed(1, 0.12, (_t, r) => ({
      failed: true,
      category: pickOf(['authentication_required', '3ds_failed', 'authentication_failed'], r),
      retries: 0,
      geo: 'US',
    })),
    { elevatedWithinSec: 60, drivers: ['auth_failure_cluster'] },
  ),
  {
    name: 'slow-degradation',
    description: 'failure rate climbing from 8% to 45% over 20 minutes, then recovering',
    durationSec: 600 + CLIMB + 180 + RECOVERY,
    onsetSec: 600,
    endSec: 600 + CLIMB + 180,
    shape: {
      rate: (t) => base.rate(t),
      draw: (t, r) => (t >= 600 && t < 600 + CLIMB + 180 ? drawOrdinary(climbRate(t), USUAL_GEOS, r) : base.draw(t, r)),
    },
    expect: {
      flaggedBeforeSec: ((0.35 - 0.08) / (0.45 - 0.08)) * CLIMB,
      drivers: ['high_failure_rate'],
      recoverWithinSec: 120,
    },
  },
];

/** A second, healthy processor runs beside every incident: incidents must not leak into it. */
export const CONTROL: TrafficShape = healthy({ phase: 2 });
export const RATE = BASE_RATE;
