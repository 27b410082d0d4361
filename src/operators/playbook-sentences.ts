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
  geo_failure_concentration:
    'Failures concentrated in one geography commonly point to an issuer or regional outage rather than processor-wide degradation.',
  segment_failure_concentration:
    'Failures concentrated in one merchant, failure category or payment route typically point to a localised integration or issuer problem.',
});

/** How `processor_risk_focus` is named in tier 2 text, per field: "{label} {value}". */
export const FOCUS_LABELS: Readonly<Record<string, string>> = Object.freeze({
  geo_bucket: 'geography',
  merchant_id_hash: 'merchant',
  failure_category: 'failure category',
  payment_method_bucket: 'payment method',
  channel: 'channel',
});

/** The sentence naming the segment, after the driver sentences; `{segment}` is "geography BR". */
export const FOCUS_TEMPLATE =
  'The concentration is most visible in {segment}, where failures commonly run well above its usual rate.';

/** The focus sentence for `focus`, or '' when there is none. */
export function focusSentence(focus: Readonly<Record<string, string>> | undefined): string {
  if (focus === undefined) return '';
  for (const field in focus) {
    const label = FOCUS_LABELS[field] ?? field;
    return FOCUS_TEMPLATE.replace('{segment}', `${label} ${focus[field] ?? ''}`);
  }
  return '';
}

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

/**
 * `processor_playbook_context`: empty for `low`, else the band sentence, one per driver in
 * driver order, then the focus sentence naming the segment when there is one.
 */
export function playbookContext(
  band: Band,
  drivers: readonly RiskDriverOrStatus[],
  focus?: Readonly<Record<string, string>>,
): string {
  if (band === 'low') return '';
  let text = BAND_SENTENCES[band];
  for (const d of RISK_DRIVERS) if (drivers.includes(d)) text += ' ' + DRIVER_SENTENCES[d];
  const f = focusSentence(focus);
  return f === '' ? text : `${text} ${f}`;
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
  return [
    ...Object.values(BAND_SENTENCES),
    ...Object.values(DRIVER_SENTENCES),
    ...Object.values(TRAJECTORY_TEMPLATES),
    FOCUS_TEMPLATE,
  ];
}
