/**
 * One processor's state inside `RiskWindow`: the bucket ring (typed arrays, one slot per 10 s
 * bucket), running totals over the window and over the recent span, and the decayed baseline.
 * Only `RiskWindow` mutates it; models read it through `WindowView`.
 */
import type { RiskAssessment } from '../../pipeline/types.js';
import { GEO_BITS, GEO_WORDS } from './geo-interner.js';

export class ProcessorWindow {
  /** Bucket id (epoch ms / 10 000) held by each slot; -Infinity when never used. */
  readonly ids: Float64Array;
  readonly events: Int32Array;
  readonly failures: Int32Array;
  readonly timeouts: Int32Array;
  readonly auth: Int32Array;
  readonly retries: Int32Array;
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

  /** Since the window was created: entries counted, counted as too late, skipped as redelivered. */
  counted = 0;
  tooLate = 0;
  duplicates = 0;

  /** Assessments stamped per band (BANDS order), counted by the scorer. */
  readonly scoredByBand = new Float64Array(4);
  /** Update order, for evicting the least recently updated processor. */
  touched = 0;
  /** The last assessment made from this state (reused while nothing reported changes). */
  assessment: RiskAssessment | undefined = undefined;

  constructor(
    readonly processor: string,
    /** Buckets in the window (N) and in the recent span (R ≤ N). */
    readonly bucketCount: number,
    readonly recentBucketCount: number,
  ) {
    this.ids = new Float64Array(bucketCount).fill(-Infinity);
    this.events = new Int32Array(bucketCount);
    this.failures = new Int32Array(bucketCount);
    this.timeouts = new Int32Array(bucketCount);
    this.auth = new Int32Array(bucketCount);
    this.retries = new Int32Array(bucketCount);
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
      this.baseBuckets = this.baseBuckets * d + 1;
      this.baseEvents = this.baseEvents * d + e;
      this.baseFailures = this.baseFailures * d + f;
      this.baseTimeouts = this.baseTimeouts * d + t;
      this.baseAuthFailures = this.baseAuthFailures * d + a;
      this.baseRetrySum = this.baseRetrySum * d + r;
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
