/**
 * The risk vocabulary every layer shares, in one place: bands and their order, drivers in their
 * contractual order, trajectories, model names and tiers. Pure constants.
 */

/** Bands from the least to the most severe; a band's index is its rank. */
export const BANDS = ['low', 'elevated', 'high', 'critical'] as const;
export type Band = (typeof BANDS)[number];

/** A band's rank: 0 for `low` up to 3 for `critical`. */
export const BAND_RANK: Readonly<Record<Band, number>> = { low: 0, elevated: 1, high: 2, critical: 3 };

/** Drivers in the order every export lists them. */
export const RISK_DRIVERS = [
  'high_failure_rate',
  'retry_pressure_spike',
  'timeout_clustering',
  'traffic_volatility',
  'auth_failure_cluster',
  'geo_entropy_increase',
  'geo_failure_concentration',
  'segment_failure_concentration',
] as const;
export type RiskDriver = (typeof RISK_DRIVERS)[number];
export type RiskDriverOrStatus = RiskDriver | 'nominal_behavior' | 'insufficient_data';

export const TRAJECTORIES = ['accelerating', 'stable', 'decelerating'] as const;
export type Trajectory = (typeof TRAJECTORIES)[number];

export const RISK_MODELS = ['adaptive', 'classic'] as const;
export type RiskModelName = (typeof RISK_MODELS)[number];

export const TIERS = ['tier1', 'tier2'] as const;
export type Tier = (typeof TIERS)[number];

/** What each tier is called where it is shown to people (startup log, `/ready`, the dashboard). */
export const TIER_LABELS: Readonly<Record<Tier, string>> = {
  tier1: 'Processor Exposure Monitor',
  tier2: 'Revenue Protection',
};
