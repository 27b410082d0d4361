/**
 * Every sentence tier 2 can write, in one module so that the guardrail test can
 * enumerate them: probabilistic language only, no guarantees, no recommended actions, no
 * processor rule stated as fact. The `high` band and the first two driver sentences are part of
 * the documented contract, verbatim; the rest are written in the same voice.
 */
import { RISK_DRIVERS } from '../risk-terms.js';
import type { Band, RiskDriver, RiskDriverOrStatus, Trajectory } from '../risk-terms.js';

export const BAND_SENTENCES: Readonly<Record<Exclude<Band, 'low'>, string>> = Object.freeze({
  elevated:
    'This pattern commonly appears ahead of closer processor-side monitoring. Deviations of this size are often reviewed when they persist.',
  high: 'This pattern typically correlates with processor-side monitoring escalation. Rate limiting or velocity checks are commonly triggered at this threshold.',
  critical:
    'This pattern typically correlates with severe processor-side risk escalation. Reviews, holds or throttling are commonly associated with sustained activity at this level.',
});

export const DRIVER_SENTENCES: Readonly<Record<RiskDriver, string>> = Object.freeze({
  high_failure_rate: 'Elevated failure rates are commonly interpreted as degraded transaction quality.',
  retry_pressure_spike:
    'Retry clustering typically signals infrastructure stress or integration issues to processor risk systems.',
  timeout_clustering:
    'Clustered timeouts typically point to processor-side or network degradation rather than issuer declines.',
  traffic_volatility: 'Abrupt volume shifts are commonly examined by processor velocity monitoring.',
  auth_failure_cluster:
    'Clusters of authentication failures often correlate with issuer or 3DS friction and are commonly watched by fraud controls.',
  geo_entropy_increase:
    'A sudden spread of transaction geographies is often associated with card-testing patterns in processor risk models.',
});

/**
 * `risk_trajectory` templates; `{ratio}` is the trajectory ratio with one decimal, `{window}` the
 * window phrase ("the last 5 minutes").
 */
export const TRAJECTORY_TEMPLATES = Object.freeze({
  accelerating: 'Pattern accelerating: ~{ratio}× above baseline over {window}.',
  sustained: 'Elevation sustained: ~{ratio}× above baseline over {window}.',
  decelerating: 'Pattern decelerating: ~{ratio}× of baseline over {window}.',
});

/** Ratios from which a stable trajectory is still worth a sentence. */
export const SUSTAINED_FROM = 1.5;

/** `processor_playbook_context`: empty for `low`, else the band sentence then one per driver in driver order. */
export function playbookContext(band: Band, drivers: readonly RiskDriverOrStatus[]): string {
  if (band === 'low') return '';
  let text = BAND_SENTENCES[band];
  for (const d of RISK_DRIVERS) if (drivers.includes(d)) text += ' ' + DRIVER_SENTENCES[d];
  return text;
}

/** "the last 5 minutes", "the last minute", "the last 90 seconds". */
export function windowPhrase(windowSec: number): string {
  if (windowSec === 60) return 'the last minute';
  if (windowSec % 60 === 0) return `the last ${windowSec / 60} minutes`;
  return `the last ${windowSec} seconds`;
}

/** `risk_trajectory`: undefined when stable below SUSTAINED_FROM. */
export function trajectoryText(trajectory: Trajectory, ratio: number, windowSec: number): string | undefined {
  let template: string;
  switch (trajectory) {
    case 'accelerating':
      template = TRAJECTORY_TEMPLATES.accelerating;
      break;
    case 'decelerating':
      template = TRAJECTORY_TEMPLATES.decelerating;
      break;
    case 'stable':
      if (!(ratio >= SUSTAINED_FROM)) return undefined;
      template = TRAJECTORY_TEMPLATES.sustained;
      break;
  }
  return template.replace('{ratio}', ratio.toFixed(1)).replace('{window}', windowPhrase(windowSec));
}

/** Every fixed sentence and template the tier 2 code can emit, for the guardrail test. */
export function producibleTexts(): string[] {
  return [...Object.values(BAND_SENTENCES), ...Object.values(DRIVER_SENTENCES), ...Object.values(TRAJECTORY_TEMPLATES)];
}
