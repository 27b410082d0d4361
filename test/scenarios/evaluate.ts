/**
 * Runs a scenario through the real `scoreRisk` operator and measures what an operator of
 * PayFlux would see: time to each band after onset, drivers named, false-positive episodes,
 * time back to low after the incident.
 */
import { from } from 'rxjs';
import { scoreRisk } from '../../src/operators/score-risk.js';
import type { RiskModelName } from '../../src/risk-terms.js';
import type { Band, RiskDriver } from '../../src/risk-terms.js';
import type { Envelope } from '../../src/pipeline/types.js';
import { batchOf } from '../unit/operators/fixtures.js';
import { generate } from './generator.js';
import { CONTROL, EPISODE_SEC, WARMUP_SEC } from './scenarios.js';
import type { Scenario } from './scenarios.js';

export const START_MS = Date.UTC(2024, 0, 1, 0, 0, 0);
const BATCH = 500;
const RANK: Readonly<Record<Band, number>> = { low: 0, elevated: 1, high: 2, critical: 3 };

export interface Episode {
  readonly start: number;
  readonly end: number;
}

export interface Outcome {
  readonly scenario: string;
  readonly model: RiskModelName;
  /** Seconds from onset to the first elevated / high / critical assessment. */
  readonly elevatedSec: number | undefined;
  readonly highSec: number | undefined;
  readonly criticalSec: number | undefined;
  /** Seconds from onset until every expected driver was named at elevated or worse. */
  readonly driversSec: number | undefined;
  /** Drivers named at elevated or worse during the incident. */
  readonly driversSeen: readonly RiskDriver[];
  /** Episodes (elevated or worse for more than EPISODE_SEC) outside the incident, after warm-up. */
  readonly falsePositives: readonly Episode[];
  /** Same, on the healthy control processor (incident scenarios only). */
  readonly controlFalsePositives: readonly Episode[];
  /** Seconds after the incident's end until the last incident episode closed. */
  readonly recoverSec: number | undefined;
  readonly peakScore: number;
  /** Highest score on the subject processor after warm-up, outside the incident and its recovery. */
  readonly quietPeak: number;
  readonly events: number;
}

/** Scenario traffic for one seed, generated once and shared by both models. */
export function traffic(s: Scenario, seed: number): Envelope[] {
  // The healthy control processor matters where something can leak into it: incidents.
  const subject = { name: 'stripe', shape: s.shape, ...(s.arrival ? { arrival: s.arrival } : {}) };
  return generate(
    s.onsetSec === undefined ? [subject] : [subject, { name: 'adyen', shape: CONTROL }],
    s.durationSec,
    seed,
    START_MS,
  );
}

export function run(s: Scenario, envs: Envelope[], model: RiskModelName): Outcome {
  const batches = [];
  for (let i = 0; i < envs.length; i += BATCH) batches.push(batchOf(envs.slice(i, i + BATCH)));
  let failure: Error | undefined;
  from(batches)
    .pipe(scoreRisk({ model, windowSec: 300, allowedLatenessSec: 30, thresholds: [0.3, 0.6, 0.8] }))
    .subscribe({ error: (e: unknown) => (failure = e instanceof Error ? e : new Error(String(e))) });
  if (failure !== undefined) throw failure;

  const onset = s.onsetSec ?? Infinity;
  const end = s.endSec ?? Infinity;
  const first: Partial<Record<Band, number>> = {};
  const seen = new Set<RiskDriver>();
  let driversSec: number | undefined;
  let peakScore = 0;
  let quietPeak = 0;
  const episodes = { stripe: [] as Episode[], adyen: [] as Episode[] };
  const open = { stripe: NaN, adyen: NaN };
  const clock = { stripe: -Infinity, adyen: -Infinity };

  for (const env of envs) {
    const name = env.event.processor as 'stripe' | 'adyen';
    const t = (clock[name] = Math.max(clock[name], (env.eventTimeMs - START_MS) / 1000));
    const risk = env.risk!;
    const rank = RANK[risk.band];
    if (rank > 0 && Number.isNaN(open[name])) open[name] = t;
    if (rank === 0 && !Number.isNaN(open[name])) {
      episodes[name].push({ start: open[name], end: t });
      open[name] = NaN;
    }
    if (name === 'stripe' && t >= WARMUP_SEC && (t < onset || t >= end + 180))
      quietPeak = Math.max(quietPeak, risk.score);
    if (name !== 'stripe' || t < onset || t >= end) continue;
    peakScore = Math.max(peakScore, risk.score);
    for (const band of ['elevated', 'high', 'critical'] as const)
      if (rank >= RANK[band] && first[band] === undefined) first[band] = t - onset;
    if (rank > 0) {
      for (const d of risk.drivers) seen.add(d as RiskDriver);
      if (driversSec === undefined && (s.expect.drivers ?? []).every((d) => risk.drivers.includes(d)))
        driversSec = t - onset;
    }
  }
  for (const name of ['stripe', 'adyen'] as const)
    if (!Number.isNaN(open[name])) episodes[name].push({ start: open[name], end: clock[name] });

  const long = (e: Episode) => e.end - e.start > EPISODE_SEC && e.end > WARMUP_SEC;
  const incidentEpisode = (e: Episode) => e.end >= onset && e.start < end + 180;
  const incidentEpisodes = episodes.stripe.filter(incidentEpisode);
  const lastClose = incidentEpisodes.reduce((m, e) => Math.max(m, e.end), end);
  return {
    scenario: s.name,
    model,
    elevatedSec: first.elevated,
    highSec: first.high,
    criticalSec: first.critical,
    driversSec,
    driversSeen: [...seen].sort(),
    falsePositives: episodes.stripe.filter((e) => long(e) && !incidentEpisode(e)),
    controlFalsePositives: episodes.adyen.filter(long),
    recoverSec: s.endSec === undefined ? undefined : lastClose - end,
    peakScore,
    quietPeak,
    events: envs.length,
  };
}
