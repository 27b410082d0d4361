/**
 * One processor's state inside `RiskWindow`: the bucket ring (typed arrays, one slot per 10 s
 * bucket), running totals over the window and over the recent span, and the decayed baseline.
 * Only `RiskWindow` mutates it; models read it through `WindowView`.
 */
import type { RiskAssessment } from '../../pipeline/types.js';
import { BASELINE_PRIOR, baselineRate, driftSample, winsorised } from './baseline.js';
import { GEO_BITS, GEO_WORDS } from './geo-interner.js';
import { createSegments, doubles } from './segment-cells.js';
import type { SegmentState } from './segment-cells.js';

/**
 * Buckets of baseline history from which it is established (10 minutes): from then on a bucket
 * scored elevated or worse teaches the drift nothing. Before, a processor whose normal differs
 * from the priors is alarmed at first and must learn its drift all the same.
 */
export const ESTABLISHED_BUCKETS = 60;

/** The window's fields that become fractions (decayed sums), see the constructor. */
const FRACTIONAL = [
  'baseBuckets',
  'baseEvents',
  'baseFailures',
  'baseTimeouts',
  'baseAuthFailures',
  'baseRetrySum',
  'baseNovelSum',
  'baseNovelWeight',
  'driftFailures',
  'driftTimeouts',
  'driftAuthFailures',
  'driftWeight',
] as const;

export class ProcessorWindow {
  /** Bucket id (epoch ms / 10 000) held by each slot; -Infinity when never used. */
  readonly ids: Float64Array;
  readonly events: Int32Array;
  readonly failures: Int32Array;
  readonly timeouts: Int32Array;
  readonly auth: Int32Array;
  readonly retries: Int32Array;
  /** 1 when an assessment of elevated or worse was made while the bucket was the watermark's. */
  readonly alarmed: Uint8Array;
  /** GEO_WORDS words of geo bits per slot. */
  readonly geo: Uint32Array;
  /** Per geo bit: how many window buckets / recent buckets contain it. */
  private readonly windowGeoRef: Uint16Array;
  private readonly recentGeoRef: Uint16Array;

  /** Max event time seen (ms) and its bucket id. */
  watermarkMs = -Infinity;
  wmBucket = -Infinity;
  /** Slot of the watermark's bucket, kept so the common case needs no modulo. */
  curSlot = 0;
  firstEventMs = Infinity;

  windowEvents = 0;
  windowFailures = 0;
  windowTimeouts = 0;
  windowAuthFailures = 0;
  windowRetrySum = 0;
  windowGeos = 0;

  recentEvents = 0;
  recentFailures = 0;
  recentTimeouts = 0;
  recentAuthFailures = 0;
  recentRetrySum = 0;
  /** Geos present in the recent span and in no older bucket of the window. */
  novelGeos = 0;

  /** Exponentially decayed sums over buckets that left the window (weight in buckets). */
  baseBuckets = 0;
  baseEvents = 0;
  baseFailures = 0;
  baseTimeouts = 0;
  baseAuthFailures = 0;
  baseRetrySum = 0;
  baseNovelSum = 0;
  baseNovelWeight = 0;
  /** Decayed drift sums (DRIFT) of the failure, timeout and auth-failure rates, and their weight. */
  driftFailures = 0;
  driftTimeouts = 0;
  driftAuthFailures = 0;
  driftWeight = 0;

  /** Since the window was created: entries counted, counted as too late, skipped as redelivered. */
  counted = 0;
  tooLate = 0;
  duplicates = 0;

  /** Assessments stamped per band (BANDS order), counted by the scorer. */
  readonly scoredByBand = new Float64Array(4);
  /** Update order, for evicting the least recently updated processor. */
  touched = 0;
  /**
   * What a model derives from the baseline, kept for the watermark bucket it was derived at
   * (`bucket`, -1: never): the baseline only changes when the watermark moves.
   */
  readonly derived = { bucket: -1, values: doubles(15) };
  /**
   * The sequential test's state (sequential.ts): S, run events, run failures, R, last bucket fed,
   * the run's shifted rate.
   */
  readonly sequential = doubles(6);
  /** Where failures concentrate (geo, merchant, category, route); null when segments are off. */
  readonly segments: SegmentState | null;
  /** The last assessment made from this state (reused while nothing reported changes). */
  assessment: RiskAssessment | undefined = undefined;

  constructor(
    readonly processor: string,
    /** Buckets in the window (N) and in the recent span (R ≤ N). */
    readonly bucketCount: number,
    readonly recentBucketCount: number,
    segments = true,
  ) {
    this.segments = segments ? createSegments(recentBucketCount) : null;
    // V8 takes a field's representation from its first value. These sums turn fractional once a
    // bucket leaves the window, and a field going from small integer to double changes the map
    // of every window and deoptimises each function that reads one, mid-run (a 10-minute
    // backtest, at its fifth minute). Stored as a double first, they hold doubles from the start.
    for (const f of FRACTIONAL) {
      this[f] = 0.5;
      this[f] = 0;
    }
    this.ids = new Float64Array(bucketCount).fill(-Infinity);
    this.events = new Int32Array(bucketCount);
    this.failures = new Int32Array(bucketCount);
    this.timeouts = new Int32Array(bucketCount);
    this.auth = new Int32Array(bucketCount);
    this.retries = new Int32Array(bucketCount);
    this.alarmed = new Uint8Array(bucketCount);
    this.geo = new Uint32Array(bucketCount * GEO_WORDS);
    this.windowGeoRef = new Uint16Array(GEO_BITS);
    this.recentGeoRef = new Uint16Array(GEO_BITS);
  }

  slotOf(bucket: number): number {
    const s = bucket % this.bucketCount;
    return s < 0 ? s + this.bucketCount : s;
  }

  /** Events in the watermark's bucket (`age` 0) or the one before it (`age` 1); 0 when empty. */
  bucketEvents(age: 0 | 1): number {
    const s = this.slotAt(age);
    return s < 0 ? 0 : (this.events[s] ?? 0);
  }

  bucketFailures(age: 0 | 1): number {
    const s = this.slotAt(age);
    return s < 0 ? 0 : (this.failures[s] ?? 0);
  }

  bucketTimeouts(age: 0 | 1): number {
    const s = this.slotAt(age);
    return s < 0 ? 0 : (this.timeouts[s] ?? 0);
  }

  bucketAuthFailures(age: 0 | 1): number {
    const s = this.slotAt(age);
    return s < 0 ? 0 : (this.auth[s] ?? 0);
  }

  /** Events counted in bucket `b` while it is in the window; 0 otherwise. */
  eventsInBucket(b: number): number {
    const s = this.slotOf(b);
    return this.ids[s] === b ? (this.events[s] ?? 0) : 0;
  }

  /** Failures counted in bucket `b` while it is in the window; 0 otherwise. */
  failuresInBucket(b: number): number {
    const s = this.slotOf(b);
    return this.ids[s] === b ? (this.failures[s] ?? 0) : 0;
  }

  /** The slot holding the bucket `age` (0 or 1) before the watermark's, or -1 when it holds another. */
  private slotAt(age: 0 | 1): number {
    let s = this.curSlot;
    if (age === 1) s = s === 0 ? this.bucketCount - 1 : s - 1;
    return this.ids[s] === this.wmBucket - age ? s : -1;
  }

  /** Reuses slot `s` for bucket `b`; the bucket it held already left the window. */
  resetSlot(s: number, b: number): void {
    this.ids[s] = b;
    this.events[s] = 0;
    this.failures[s] = 0;
    this.timeouts[s] = 0;
    this.auth[s] = 0;
    this.retries[s] = 0;
    this.alarmed[s] = 0;
    this.geo.fill(0, s * GEO_WORDS, (s + 1) * GEO_WORDS);
  }

  /** Applies reference-count deltas for one geo bit, keeping the distinct and novel counters. */
  bumpGeo(bit: number, dWindow: number, dRecent: number): void {
    const w0 = this.windowGeoRef[bit] ?? 0;
    const r0 = this.recentGeoRef[bit] ?? 0;
    const w = w0 + dWindow;
    const r = r0 + dRecent;
    this.windowGeoRef[bit] = w;
    this.recentGeoRef[bit] = r;
    if (w0 === 0 && w > 0) this.windowGeos++;
    else if (w0 > 0 && w === 0) this.windowGeos--;
    const wasNovel = r0 > 0 && r0 === w0;
    const isNovel = r > 0 && r === w;
    if (wasNovel !== isNovel) this.novelGeos += isNovel ? 1 : -1;
  }

  /** Bucket `k` leaves the recent span: its counts leave the recent totals. */
  leaveRecent(k: number): void {
    const s = this.slotOf(k);
    if (this.ids[s] !== k) return;
    this.recentEvents -= this.events[s] ?? 0;
    this.recentFailures -= this.failures[s] ?? 0;
    this.recentTimeouts -= this.timeouts[s] ?? 0;
    this.recentAuthFailures -= this.auth[s] ?? 0;
    this.recentRetrySum -= this.retries[s] ?? 0;
    this.forEachGeo(s, -1);
  }

  /**
   * Bucket `k` leaves the window: subtracted once (the slot is zeroed on its next reuse) and fed
   * to the baseline with decay `d` (0: not fed, the bucket predates the processor).
   */
  leaveWindow(k: number, d: number): void {
    const s = this.slotOf(k);
    if (this.ids[s] !== k) {
      if (d > 0) this.decayBaseline(d, d);
      return;
    }
    const e = this.events[s] ?? 0;
    const f = this.failures[s] ?? 0;
    const t = this.timeouts[s] ?? 0;
    const a = this.auth[s] ?? 0;
    const r = this.retries[s] ?? 0;
    this.windowEvents -= e;
    this.windowFailures -= f;
    this.windowTimeouts -= t;
    this.windowAuthFailures -= a;
    this.windowRetrySum -= r;
    this.forEachGeo(s, 0);
    if (d > 0) {
      const be = this.baseEvents;
      const fb = baselineRate(this.baseFailures, be, BASELINE_PRIOR.failureRate);
      const tb = baselineRate(this.baseTimeouts, be, BASELINE_PRIOR.timeoutRate);
      const ab = baselineRate(this.baseAuthFailures, be, BASELINE_PRIOR.authRate);
      const rb = baselineRate(this.baseRetrySum, be, BASELINE_PRIOR.avgRetry);
      if (e > 0 && (this.alarmed[s] === 0 || this.baseBuckets < ESTABLISHED_BUCKETS)) {
        const dw = this.driftWeight;
        this.driftFailures = this.driftFailures * d + driftSample(f, e, fb, this.driftFailures, dw);
        this.driftTimeouts = this.driftTimeouts * d + driftSample(t, e, tb, this.driftTimeouts, dw);
        this.driftAuthFailures = this.driftAuthFailures * d + driftSample(a, e, ab, this.driftAuthFailures, dw);
        this.driftWeight = dw * d + 1;
      }
      this.baseBuckets = this.baseBuckets * d + 1;
      this.baseEvents = be * d + e;
      this.baseFailures = this.baseFailures * d + winsorised(f, e, fb);
      this.baseTimeouts = this.baseTimeouts * d + winsorised(t, e, tb);
      this.baseAuthFailures = this.baseAuthFailures * d + winsorised(a, e, ab);
      this.baseRetrySum = this.baseRetrySum * d + winsorised(r, e, Math.min(rb, 1));
    }
  }

  /** `dk` = d^k for k empty buckets: decays the sums and adds k buckets of weight. */
  decayBaseline(dk: number, d: number): void {
    this.baseBuckets = this.baseBuckets * dk + (1 - dk) / (1 - d);
    this.baseEvents *= dk;
    this.baseFailures *= dk;
    this.baseTimeouts *= dk;
    this.baseAuthFailures *= dk;
    this.baseRetrySum *= dk;
    this.driftFailures *= dk;
    this.driftTimeouts *= dk;
    this.driftAuthFailures *= dk;
    this.driftWeight *= dk;
  }

  /** dRecent = -1: the slot leaves the recent span; 0: it leaves the window. */
  private forEachGeo(s: number, dRecent: number): void {
    const base = s * GEO_WORDS;
    for (let w = 0; w < GEO_WORDS; w++) {
      let m = this.geo[base + w] ?? 0;
      while (m !== 0) {
        const low = m & -m;
        const bit = w * 32 + 31 - Math.clz32(low);
        if (dRecent < 0) this.bumpGeo(bit, 0, -1);
        else this.bumpGeo(bit, -1, 0);
        m ^= low;
      }
    }
  }
}

/** What models and snapshots read: the state, never to be mutated outside `RiskWindow`. */
export type WindowView = Readonly<ProcessorWindow>;
