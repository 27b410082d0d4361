/**
 * Severity of the segment cells (segment-cells.ts) for the adaptive model: per cell, evidence of
 * its failures against its own baseline, the effect size, its impact on the processor and how
 * concentrated the processor's excess failures are in it (ADAPTIVE_PARAMS), over the recent
 * span and over the last 10 s.
 */
import { BUCKET_MS } from './risk-window.js';
import { baselineRate, driftSq } from './baseline.js';
import {
  ADAPTIVE_PARAMS as P,
  EVIDENCE_SURE,
  EVIDENCE_TOP,
  countSeverityOf,
  effectOf,
  evidenceOf,
} from './evidence.js';
import type { WindowView } from './processor-window.js';
import {
  BASE_EVENTS,
  BASE_FAILURES,
  CATEGORY_PRIOR,
  RECENT_EVENTS,
  RECENT_FAILURES,
  RING,
  SEVERITY,
  ringSlot,
  severityAt,
} from './segment-cells.js';
import type { SegmentState, SegmentTable } from './segment-cells.js';
import { clamp01 } from './risk-model.js';

const CONC_FROM = P.concentration[0] ?? 0.2;
const CONC_FULL = P.concentration[1] ?? 0.6;

/**
 * Brings cell severities up to date: every cell once per watermark bucket, else only the cells
 * the last event touched (a cell's severity moves with its own events; the processor-level
 * inputs drift slowly within a bucket). Keeps each table's `top` on its largest cell.
 */
export function updateSegments(seg: SegmentState, w: WindowView): void {
  // Read here, not passed in: numbers passed to a call that is not inlined are boxed, per event.
  const bucket = w.wmBucket;
  const all = seg.evaluatedBucket !== bucket;
  const touched = seg.touched;
  if (!all && touched[0] === -1 && touched[1] === -1 && touched[2] === -1 && touched[3] === -1) return;
  seg.evaluatedBucket = bucket;
  const n = w.recentEvents;
  const fb = w.derived.values[0] ?? 0;
  const excess = w.recentFailures - n * fb;
  // The last 10 s, as for the processor's own signals: the watermark's ring slot plus the
  // share of the previous one those 10 s still cover.
  const r = seg.r;
  const slot = ringSlot(bucket, r);
  const carry = 1 - clamp01((w.watermarkMs - bucket * BUCKET_MS) / BUCKET_MS);
  const n10 = w.bucketEvents(0) + carry * w.bucketEvents(1);
  SHORT[0] = slot;
  SHORT[1] = r > 1 ? (slot === 0 ? r - 1 : slot - 1) : -1;
  SHORT[2] = carry;
  SHORT[3] = n10;
  SHORT[4] = w.bucketFailures(0) + carry * w.bucketFailures(1) - n10 * fb;
  SHORT[5] = fb;
  SHORT[6] = excess;
  for (let i = 0; i < seg.tables.length; i++) {
    const t = seg.tables[i];
    if (t === undefined) continue;
    if (all) {
      t.top = -1;
      for (let k = 0; k < t.keys.length; k++) {
        const v = t.keys[k] === '' ? 0 : cellSeverity(t, k, n);
        t.cells[k * t.stride + SEVERITY] = v;
        if (v > 0 && (t.top < 0 || v > severityAt(t, t.top))) t.top = k;
      }
      continue;
    }
    const k = seg.touched[i] ?? -1;
    if (k < 0) continue;
    const before = severityAt(t, k);
    const v = cellSeverity(t, k, n);
    t.cells[k * t.stride + SEVERITY] = v;
    if (t.top === k && v < before) {
      t.top = -1;
      for (let j = 0; j < t.keys.length; j++) {
        const u = severityAt(t, j);
        if (u > 0 && (t.top < 0 || u > severityAt(t, t.top))) t.top = j;
      }
    } else if (v > 0 && (t.top < 0 || v > severityAt(t, t.top))) t.top = k;
  }
}

/**
 * The processor's numbers for `cellSeverity`, set by `updateSegments` before it (passed here, not
 * as arguments: V8 boxes a double passed to a call it does not inline): the ring slots of the
 * watermark's bucket and the one before (-1: none), the previous one's share, the processor's
 * events and excess failures over those 10 s, its baseline failure rate and its recent excess
 * failures.
 */
const SHORT = new Float64Array(7);
/** Processor events in the last 10 s from which cells are also weighed over them. */
const SHORT_MIN_EVENTS = 100;

/**
 * One cell's severity: evidence, effect, impact and concentration (ADAPTIVE_PARAMS), over the
 * recent span, and over the last 10 s while the recent span corroborates it (a segment outage
 * on a busy processor shows there seconds before it does over 30 s).
 */
function cellSeverity(t: SegmentTable, k: number, n: number): number {
  const fb = SHORT[5] ?? 0;
  const processorExcess = SHORT[6] ?? 0;
  const category = t.dim === 'category';
  const c = t.cells;
  const o = k * t.stride;
  const x = c[o + RECENT_FAILURES] ?? 0;
  const ne = category ? n : (c[o + RECENT_EVENTS] ?? 0);
  if (ne <= 0 || x <= 0) return 0;
  const p0 = baselineRate(c[o + BASE_FAILURES] ?? 0, c[o + BASE_EVENTS] ?? 0, category ? CATEGORY_PRIOR * fb : fb);
  const excess = x - ne * p0;
  if (excess <= 0) return 0;
  const tauSq = driftSq(0, 0, p0);
  // `evidenceOf`'s own first tests, made before the call (it boxes its double arguments): most
  // cells of a healthy processor end here.
  if (!(p0 > 0 && p0 < 1)) return 0;
  const corroborate = P.evidence.corroborate;
  const mean = ne * p0;
  const q0 = 1 - p0;
  const phi = 1 + ne * (tauSq / (p0 * q0));
  if (excess * excess <= corroborate * corroborate * mean * q0 * phi) return 0;
  // Past the evidence ramp's top, no logarithm (EVIDENCE_SURE): a segment outage's cells are.
  const rate = x / ne - p0;
  const z = 4 * ne * rate * rate >= EVIDENCE_SURE * phi ? EVIDENCE_TOP : evidenceOf(x, ne, p0, tauSq, corroborate);
  if (z < corroborate) return 0;
  const traffic = category ? (fb > 0 ? Math.min(1, p0 / fb) : 0) : ne / n;
  let v = spanSeverity(z, x, ne, p0, excess, n, processorExcess, traffic);
  const ring = o + RING;
  const r = (t.stride - RING) / 2;
  const s0 = SHORT[0] ?? 0;
  const s1 = SHORT[1] ?? -1;
  const carry = SHORT[2] ?? 0;
  const n10 = SHORT[3] ?? 0;
  // A quiet processor's 10 s hold a handful of events: there the short look only adds touches
  // of noise (measured on healthy days at 0.5 and 5 events/s: a quarter more false warnings).
  if (n10 >= SHORT_MIN_EVENTS) {
    const x10 = (c[ring + r + s0] ?? 0) + (s1 < 0 ? 0 : carry * (c[ring + r + s1] ?? 0));
    const ne10 = category ? n10 : (c[ring + s0] ?? 0) + (s1 < 0 ? 0 : carry * (c[ring + s1] ?? 0));
    const excess10 = x10 - ne10 * p0;
    if (ne10 > 0 && excess10 >= P.evidence.minExcess) {
      const r10 = x10 / ne10 - p0;
      const sure = 4 * ne10 * r10 * r10 >= EVIDENCE_SURE * (1 + ne10 * (tauSq / (p0 * q0)));
      const z10 = sure ? EVIDENCE_TOP : evidenceOf(x10, ne10, p0, tauSq);
      const traffic10 = category ? traffic : ne10 / n10;
      const v10 = spanSeverity(z10, x10, ne10, p0, excess10, n10, SHORT[4] ?? 0, traffic10);
      if (v10 > v) v = v10;
    }
  }
  return v;
}

/**
 * A cell's severity over one span: `x` failures of its `ne` events against its rate `p0` with
 * evidence `z`, `excess` failures beyond it, among the processor's `n` events and its
 * `processorExcess` failures beyond its own rate; `traffic` the cell's share of traffic.
 */
function spanSeverity(
  z: number,
  x: number,
  ne: number,
  p0: number,
  excess: number,
  n: number,
  processorExcess: number,
  traffic: number,
): number {
  const severity = countSeverityOf(z, x, ne, p0, P.failureEffect);
  if (severity === 0) return 0;
  const impact = effectOf(excess / n, P.impactEffect);
  // Concentration: the cell's share of the processor's excess failures beyond its share of
  // traffic (of failures, for a category); a cell carrying most traffic concentrates nothing.
  const share = excess / (processorExcess > excess ? processorExcess : excess);
  // A cell holding most of the traffic cannot be told from the whole: its lift stays small.
  const lift = (share - traffic) / (1 - traffic > 0.25 ? 1 - traffic : 0.25);
  const conc = clamp01((lift - CONC_FROM) / (CONC_FULL - CONC_FROM));
  return Math.min(severity, impact) * conc;
}
