/**
 * `riskSamples(batch)`: one summary per processor of a scored batch, for the risk history. One
 * pass over the entries; the last event of a processor carries its state after the batch.
 */
import { BAND_RANK } from '../risk-terms.js';
import type { Batch, RiskAssessment } from '../pipeline/types.js';
import type { RiskSample } from './risk-history.js';

interface Acc {
  atMs: number;
  events: number;
  failures: number;
  max: RiskAssessment;
  last: RiskAssessment;
}

/**
 * The segment a model names in an assessment (`{"geo_bucket":"BR"}`), when it names one: a flat
 * record of strings, anything else is not shown.
 */
export function focusOf(a: RiskAssessment): Readonly<Record<string, string>> | null {
  const focus = (a as { readonly focus?: unknown }).focus;
  if (focus === null || typeof focus !== 'object') return null;
  const out: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(focus as Record<string, unknown>)) {
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    out[k] = String(v);
    n++;
  }
  return n > 0 ? out : null;
}

/** Per processor with at least one scored entry, in order of first appearance. */
export function riskSamples(batch: Batch): RiskSample[] {
  const by = new Map<string, Acc>();
  for (const env of batch.entries) {
    const a = env.risk;
    if (a === undefined) continue;
    const e = env.event;
    const failed = e.event_type === 'payment_failed' || (e.failure_category !== undefined && e.failure_category !== '');
    const acc = by.get(e.processor);
    if (acc === undefined) {
      by.set(e.processor, { atMs: env.eventTimeMs, events: 1, failures: failed ? 1 : 0, max: a, last: a });
      continue;
    }
    acc.events++;
    if (failed) acc.failures++;
    if (env.eventTimeMs > acc.atMs) acc.atMs = env.eventTimeMs;
    if (a.score > acc.max.score || BAND_RANK[a.band] > BAND_RANK[acc.max.band]) acc.max = a;
    acc.last = a;
  }
  const out: RiskSample[] = [];
  for (const [processor, acc] of by) {
    out.push({
      processor,
      atMs: acc.atMs,
      events: acc.events,
      failures: acc.failures,
      maxScore: acc.max.score,
      maxBand: acc.max.band,
      score: acc.last.score,
      band: acc.last.band,
      drivers: acc.last.drivers,
      trajectory: acc.last.trajectory,
      trajectoryRatio: acc.last.trajectoryRatio,
      focus: focusOf(acc.last),
    });
  }
  return out;
}
