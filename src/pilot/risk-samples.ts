/**
 * `riskSamples(batch)`: one summary per processor of a scored batch, split by the 10 s slot of
 * each event's time, for the risk history. One pass over the entries; a live batch spans one or
 * two slots, a backlog many.
 */
import { BAND_RANK } from '../risk-terms.js';
import type { Batch, RiskAssessment } from '../pipeline/types.js';
import { SLOT_MS, type RiskSample, type SlotSample } from './risk-history.js';

interface SlotAcc {
  atMs: number;
  events: number;
  failures: number;
  max: RiskAssessment;
  last: RiskAssessment;
}

interface ProcessorAcc {
  atMs: number;
  last: RiskAssessment;
  slots: Map<number, SlotAcc>;
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

const higher = (a: RiskAssessment, b: RiskAssessment): boolean =>
  a.score > b.score || BAND_RANK[a.band] > BAND_RANK[b.band];

function slotSample(s: SlotAcc): SlotSample {
  return {
    atMs: s.atMs,
    events: s.events,
    failures: s.failures,
    maxScore: s.max.score,
    maxBand: s.max.band,
    score: s.last.score,
    band: s.last.band,
    drivers: s.last.drivers,
    trajectory: s.last.trajectory,
    trajectoryRatio: s.last.trajectoryRatio,
  };
}

/** Per processor with at least one scored entry, in order of first appearance; slots in time order. */
export function riskSamples(batch: Batch): RiskSample[] {
  const by = new Map<string, ProcessorAcc>();
  for (const env of batch.entries) {
    const a = env.risk;
    if (a === undefined) continue;
    const e = env.event;
    const failed = e.event_type === 'payment_failed' || (e.failure_category !== undefined && e.failure_category !== '');
    let p = by.get(e.processor);
    if (p === undefined) {
      p = { atMs: env.eventTimeMs, last: a, slots: new Map() };
      by.set(e.processor, p);
    }
    if (env.eventTimeMs > p.atMs) p.atMs = env.eventTimeMs;
    p.last = a;
    const key = Math.floor(env.eventTimeMs / SLOT_MS);
    const s = p.slots.get(key);
    if (s === undefined) {
      p.slots.set(key, { atMs: env.eventTimeMs, events: 1, failures: failed ? 1 : 0, max: a, last: a });
      continue;
    }
    s.events++;
    if (failed) s.failures++;
    if (higher(a, s.max)) s.max = a;
    s.last = a;
  }
  const out: RiskSample[] = [];
  for (const [processor, p] of by) {
    const slots = [...p.slots.entries()].sort((x, y) => x[0] - y[0]).map(([, s]) => slotSample(s));
    out.push({
      processor,
      atMs: p.atMs,
      slots,
      score: p.last.score,
      band: p.last.band,
      drivers: p.last.drivers,
      trajectory: p.last.trajectory,
      trajectoryRatio: p.last.trajectoryRatio,
      focus: focusOf(p.last),
    });
  }
  return out;
}
