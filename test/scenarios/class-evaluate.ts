/**
 * Runs one traffic-class case through three detectors on the same envelopes and measures what
 * an operator would see: detection (an alarm raised inside the labelled anomaly and held for
 * more than 20 s) and its delay after onset, the delay of the first warning opened inside the
 * anomaly, false episodes (alarmed for more than 20 s outside
 * the anomaly and its 3-minute tail, after warm-up) and false warnings (pilot incidents opened
 * there), per processor-day.
 *
 * - `adaptive` and `classic`: `RiskScorer` (the core of the `scoreRisk` operator, which calls
 *   it once per batch) over batches of 500; alarmed = elevated or worse; warnings are the
 *   incidents `IncidentBook` (pilot mode) opens.
 * - `cusum`: a textbook one-sided CUSUM chart on the 10 s failure rate (Page 1954), reference
 *   μ₀ = the failure rate over the warm-up, per bucket k with nₖ events and rate rₖ:
 *
 *     zₖ = (rₖ − μ₀) / √(μ₀(1 − μ₀)/nₖ),   Sₖ = max(0, Sₖ₋₁ + zₖ − 0.5),   alarm while Sₖ > 5
 *
 *   judged at the end of each bucket; a warning is an alarm starting after 120 s without one.
 *
 * The traffic is streamed batch by batch (`stream`) through all three at once: a case holds one
 * batch of envelopes, not its whole run.
 */
import { RiskScorer } from '../../src/operators/risk/risk-scorer.js';
import { IncidentBook } from '../../src/operators/track-incidents.js';
import type { Envelope } from '../../src/pipeline/types.js';
import type { ClassCase } from './classes.js';
import { stream } from './generator.js';

export const DETECTORS = ['adaptive', 'classic', 'cusum'] as const;
export type Detector = (typeof DETECTORS)[number];

const START_MS = Date.UTC(2024, 0, 1, 0, 0, 0);
const BATCH = 500;
const EPISODE_SEC = 20;
const TAIL_SEC = 180;
const COOLDOWN_SEC = 120;

export interface ClassOutcome {
  /** Seconds from onset to the first alarm inside the anomaly; undefined when missed. */
  readonly detectSec: number | undefined;
  /** Seconds from onset to the first warning opened inside the anomaly; undefined when none. */
  readonly warnSec: number | undefined;
  readonly falseEpisodes: number;
  readonly falseWarnings: number;
  /** Processor-days over which false alarms were counted. */
  readonly days: number;
}

/** A time span in seconds: [start, end]. */
type Span = readonly [number, number];

/** One risk model as the pipeline runs it: scorer, pilot incidents, and its alarm spans. */
class ModelRun {
  private readonly scorer: RiskScorer;
  private readonly book = new IncidentBook(COOLDOWN_SEC * 1000, () => 0);
  readonly opens: number[] = [];
  /** Spans where the scored band was elevated or worse, in event time. */
  readonly spans: Span[] = [];
  private open = NaN;
  private clock = -Infinity;

  constructor(model: 'adaptive' | 'classic') {
    this.scorer = new RiskScorer({ model, windowSec: 300, allowedLatenessSec: 30, thresholds: [0.3, 0.6, 0.8] });
  }

  apply(entries: Envelope[]): void {
    this.scorer.scoreAll(entries);
    for (const tr of this.book.apply(entries))
      if (tr.kind === 'open') this.opens.push((Date.parse(tr.incident.opened_at) - START_MS) / 1000);
    for (const env of entries) {
      this.clock = Math.max(this.clock, (env.eventTimeMs - START_MS) / 1000);
      const alarmed = env.risk !== undefined && env.risk.band !== 'low';
      if (alarmed && Number.isNaN(this.open)) this.open = this.clock;
      if (!alarmed && !Number.isNaN(this.open)) {
        this.spans.push([this.open, this.clock]);
        this.open = NaN;
      }
      env.risk = undefined;
    }
  }

  finish(): void {
    if (!Number.isNaN(this.open)) this.spans.push([this.open, this.clock]);
  }
}

/** `trace` sees each detector's alarm spans and warning openings (seconds from the start). */
export function runCase(
  c: ClassCase,
  trace?: (d: Detector, spans: readonly Span[], opens: readonly number[]) => void,
): Record<Detector, ClassOutcome> {
  const adaptive = new ModelRun('adaptive');
  const classic = new ModelRun('classic');
  const buckets = Math.ceil(c.durationSec / 10) + 1;
  const n = new Float64Array(buckets);
  const f = new Float64Array(buckets);
  stream({ name: 'stripe', shape: c.shape }, c.durationSec, c.seed, START_MS, BATCH, (entries) => {
    adaptive.apply(entries);
    classic.apply(entries);
    for (const env of entries) {
      const b = Math.min(buckets - 1, Math.floor((env.eventTimeMs - START_MS) / 10_000));
      n[b] = (n[b] ?? 0) + 1;
      if (env.event.event_type === 'payment_failed') f[b] = (f[b] ?? 0) + 1;
    }
  });
  adaptive.finish();
  classic.finish();
  const cusum = cusumSpans(n, f, c.warmupSec);
  const cusumOpens: number[] = [];
  let lastEnd = -Infinity;
  for (const [s, e] of cusum) {
    if (s - lastEnd > COOLDOWN_SEC) cusumOpens.push(s);
    lastEnd = e;
  }
  trace?.('adaptive', adaptive.spans, adaptive.opens);
  trace?.('classic', classic.spans, classic.opens);
  trace?.('cusum', cusum, cusumOpens);
  return {
    adaptive: measure(c, adaptive.spans, adaptive.opens),
    classic: measure(c, classic.spans, classic.opens),
    cusum: measure(c, cusum, cusumOpens),
  };
}

/** The chart over per-bucket events `n` and failures `f` (see the header). */
function cusumSpans(n: Float64Array, f: Float64Array, warmupSec: number): Span[] {
  let last = n.length - 1;
  while (last > 0 && n[last] === 0) last--;
  let refN = 0;
  let refF = 0;
  for (let b = 0; b < warmupSec / 10 && b < n.length; b++) {
    refN += n[b] ?? 0;
    refF += f[b] ?? 0;
  }
  const mu = Math.min(0.999, Math.max(0.001, refF / Math.max(1, refN)));
  const spans: Span[] = [];
  let s = 0;
  let open = NaN;
  for (let b = 0; b <= last; b++) {
    const nk = n[b] ?? 0;
    if (nk > 0) s = Math.max(0, s + ((f[b] ?? 0) / nk - mu) / Math.sqrt((mu * (1 - mu)) / nk) - 0.5);
    const t = (b + 1) * 10;
    if (s > 5 && Number.isNaN(open)) open = t;
    if (s <= 5 && !Number.isNaN(open)) {
      spans.push([open, t]);
      open = NaN;
    }
  }
  if (!Number.isNaN(open)) spans.push([open, (last + 1) * 10]);
  return spans;
}

function measure(c: ClassCase, spans: readonly Span[], opens: readonly number[]): ClassOutcome {
  const onset = c.onsetSec ?? Infinity;
  const end = c.endSec ?? -Infinity;
  const quietUntil = Math.min(onset, c.durationSec);
  const quietFrom = Math.max(c.warmupSec, end + TAIL_SEC);
  let detectSec: number | undefined;
  let falseEpisodes = 0;
  for (const [a, b] of spans) {
    // Detection: an alarm raised inside the anomaly and held, like an episode, for more than
    // 20 s (a shorter one is a flap; one already running at onset is not a response to it).
    if (detectSec === undefined && a >= onset && a < end && Math.min(b, end) - a > EPISODE_SEC) detectSec = a - onset;
    // The parts of an alarm outside the anomaly and its tail, after warm-up, are false.
    const before = Math.min(b, quietUntil) - Math.max(a, c.warmupSec);
    const after = Number.isFinite(end) ? b - Math.max(a, quietFrom) : 0;
    if (before > EPISODE_SEC) falseEpisodes++;
    if (after > EPISODE_SEC) falseEpisodes++;
  }
  const warned = opens.find((t) => t >= onset && t < end);
  const labelled = (t: number) => t >= onset && t < end + TAIL_SEC;
  const falseWarnings = opens.filter((t) => t >= c.warmupSec && !labelled(t)).length;
  const labelledSec = Number.isFinite(onset)
    ? Math.max(0, Math.min(c.durationSec, end + TAIL_SEC) - Math.max(onset, c.warmupSec))
    : 0;
  const days = Math.max(0, c.durationSec - c.warmupSec - labelledSec) / 86_400;
  return { detectSec, warnSec: warned === undefined ? undefined : warned - onset, falseEpisodes, falseWarnings, days };
}
