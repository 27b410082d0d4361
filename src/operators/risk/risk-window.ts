/**
 * The event-time window store behind `scoreRisk`: per processor, a ring of 10 s buckets covering
 * the risk window, with running totals so every event costs O(1). Plain module, no RxJS.
 *
 *   event time ──▶          window (N buckets, N = ceil(windowSec / 10))
 *   ┌──────┬──────┬─────┬──────┬──────┬──────┬──────┐
 *   │ wm-N │wm-N+1│ ... │ wm-3 │ wm-2 │ wm-1 │  wm  │◀─ watermark bucket (max event time seen)
 *   └──────┴──────┴─────┴──────┴──────┴──────┴──────┘
 *     │     ▲ counted in window totals └── recent (R) ──┘  slot = bucket id mod N
 *     └─▶ a bucket leaving the window feeds the processor's decayed baseline
 *
 * - A bucket counts while its id > wmBucket - N. Advancing the watermark subtracts the buckets
 *   that fall out (each exactly once); their slot is zeroed lazily on the next write to it.
 * - An event later than `watermark - allowedLateness` (or older than the window) is "too late":
 *   counted in the watermark's bucket and reported, so scoring never rewrites history.
 * - Redelivered entries are recognised by stream id (`RecentIds`, per processor: its partition's
 *   stream) and not counted again.
 * - "Recent" (the last R buckets) and the baseline (exponentially decayed sums over every bucket
 *   that left the window, late arrivals included) are kept here because they are window
 *   bookkeeping; the classic model ignores them, the adaptive one compares the two. An incident
 *   reaches the baseline only once it is older than the window.
 * - Geo sets are 256-bit masks per bucket with per-bit reference counts, so distinct geos in the
 *   window and geos seen only recently ("novel") are counters, not set unions.
 * - At most `maxProcessors` processors; beyond, the least recently updated one is dropped.
 *
 * Rebuild after a restart is just feeding the last window of entries through `add` in stream
 * order: the window then equals the one before the restart (entries fed again later, pending or
 * not yet delivered, are recognised by id within `recentIdCapacity`). The baseline holds only
 * what was fed; history older than the rebuild range is replaced by the model's priors.
 */
import { GEO_WORDS, GeoInterner } from './geo-interner.js';
import { fromPlain, restoreInto, toPlain, type Plain } from './plain-state.js';
import { BASELINE_PRIOR, baselineRate } from './baseline.js';
import { ProcessorWindow } from './processor-window.js';
import type { PaymentEvent } from '../../events/payment-event.js';
import { RecentIds, type StreamIdOf } from './recent-ids.js';
import { advanceSegments, countSegments, type SegmentState } from './segment-cells.js';
import { restoreSegments } from './segment-checkpoint.js';

export { ProcessorWindow, type WindowView } from './processor-window.js';

export const BUCKET_MS = 10_000;
/** Half-life of the decayed baseline unless configured: short enough to follow a daily wave. */
export const DEFAULT_HALF_LIFE_SEC = 1_800;
/** `flags` bits of `add`: the event is a failure, a timeout, an auth failure. */
export const FAILURE = 1;
export const TIMEOUT = 2;
export const AUTH_FAILURE = 4;

export const ADD_OUTCOMES = ['counted', 'late', 'duplicate'] as const;
export type AddOutcome = (typeof ADD_OUTCOMES)[number];

export interface RiskWindowOptions {
  /** PAYFLUX_RISK_SCORE_WINDOW_SEC; rounded up to whole 10 s buckets. */
  readonly windowSec: number;
  /** PAYFLUX_ALLOWED_LATENESS_SEC. */
  readonly allowedLatenessSec: number;
  /** Bound on tracked processors (default 64). */
  readonly maxProcessors?: number;
  /** How many counted stream ids are remembered for redelivery detection (default 65 536). */
  readonly recentIdCapacity?: number;
  /** Span compared against the baseline by the adaptive model (default 30 s, ≤ window). */
  readonly recentSec?: number;
  /** Half-life of the decayed baseline (default DEFAULT_HALF_LIFE_SEC). */
  readonly baselineHalfLifeSec?: number;
  /**
   * Segment cells (geo, merchant, failure category, route) per processor (default true; the
   * scorer keeps them when its model reads them).
   */
  readonly segments?: boolean;
}

/** Throws a RangeError naming the first invalid option. */
export function checkWindowOptions(o: RiskWindowOptions): void {
  const bad = (name: string, rule: string, v: unknown): never => {
    throw new RangeError(`${name} must be ${rule} (got ${String(v)})`);
  };
  if (!(o.windowSec >= 10 && o.windowSec <= 86_400)) bad('windowSec', 'in [10, 86400]', o.windowSec);
  if (!(o.allowedLatenessSec >= 0)) bad('allowedLatenessSec', '≥ 0', o.allowedLatenessSec);
  if (o.maxProcessors !== undefined && !(Number.isInteger(o.maxProcessors) && o.maxProcessors >= 1))
    bad('maxProcessors', 'a positive integer', o.maxProcessors);
  if (o.recentIdCapacity !== undefined && !(Number.isInteger(o.recentIdCapacity) && o.recentIdCapacity >= 1)) {
    bad('recentIdCapacity', 'a positive integer', o.recentIdCapacity);
  }
  if (o.recentSec !== undefined && !(o.recentSec >= 10)) bad('recentSec', '≥ 10', o.recentSec);
  if (o.baselineHalfLifeSec !== undefined && !(o.baselineHalfLifeSec > 0))
    bad('baselineHalfLifeSec', '> 0', o.baselineHalfLifeSec);
}

/** What `RiskWindow.add` reads of an entry (an `Envelope` is one). */
export interface WindowEntry extends StreamIdOf {
  /** `event_timestamp` as epoch milliseconds. */
  readonly eventTimeMs: number;
  readonly event: Pick<
    PaymentEvent,
    | 'processor'
    | 'retry_count'
    | 'geo_bucket'
    | 'merchant_id_hash'
    | 'failure_category'
    | 'payment_method_bucket'
    | 'channel'
  >;
}

/** Processors `RiskWindow.add` finds without a map lookup. */
const RECENT = 4;

/** What the window holds per processor. */
interface Held {
  readonly p: ProcessorWindow;
  readonly ids: RecentIds;
  readonly geos: GeoInterner;
}

export class RiskWindow {
  readonly bucketCount: number;
  readonly recentBucketCount: number;
  readonly maxProcessors: number;
  /** Per-bucket decay factor of the baseline. */
  readonly decay: number;
  private readonly latenessMs: number;
  private readonly segments: boolean;
  /**
   * Per processor, found with one lookup (the last one found is kept: a batch of one
   * partition's entries is one processor's): its window, the stream ids it counted (per
   * processor, since each processor's entries come from its own partition's stream, and ids of
   * different streams are not ordered against each other: two streams both hold `1700…-0`), and
   * its geo dictionary (per processor too, so that its geo bits depend on its own events alone
   * and a window restored on another node, from a checkpoint with its dictionary, scores the same).
   */
  private readonly byName = new Map<string, Held>();
  private lastName: string | undefined = undefined;
  private last: Held | undefined = undefined;
  /**
   * The last RECENT processors found, compared before the map is asked: a backtest's entries
   * (and a batch of several partitions) interleave processors, and a map lookup per entry cost
   * more than these comparisons (measured: the stage 7% faster with this and enrichTier's own).
   */
  private readonly recentNames: string[] = new Array<string>(RECENT).fill('');
  private readonly recentHeld: (Held | undefined)[] = new Array<Held | undefined>(RECENT).fill(undefined);
  private recentNext = 0;
  private readonly idCapacity: number;
  private clock = 0;
  /** Outcome of the last `add`. */
  outcome: AddOutcome = 'counted';
  /** Processors dropped to respect `maxProcessors`. */
  evictions = 0;

  constructor(o: RiskWindowOptions) {
    checkWindowOptions(o);
    this.bucketCount = Math.ceil(o.windowSec / 10);
    this.recentBucketCount = Math.min(this.bucketCount, Math.max(1, Math.ceil((o.recentSec ?? 30) / 10)));
    this.maxProcessors = o.maxProcessors ?? 64;
    this.decay = Math.pow(0.5, BUCKET_MS / 1000 / (o.baselineHalfLifeSec ?? DEFAULT_HALF_LIFE_SEC));
    this.latenessMs = o.allowedLatenessSec * 1000;
    this.segments = o.segments ?? true;
    this.idCapacity = o.recentIdCapacity ?? 65_536;
  }

  get(processor: string): ProcessorWindow | undefined {
    return this.byName.get(processor)?.p;
  }

  *processors(): IterableIterator<ProcessorWindow> {
    for (const h of this.byName.values()) yield h.p;
  }

  get size(): number {
    return this.byName.size;
  }

  /** Stream ids remembered for redelivery detection (bounded by `recentIdCapacity`). */
  get rememberedIds(): number {
    let n = 0;
    for (const h of this.byName.values()) n += h.ids.size;
    return n;
  }

  /**
   * Counts one entry into its processor's window and returns that window; `outcome` says whether
   * it was counted in its own bucket, counted as too late, or skipped as a redelivery.
   * `flags` is a combination of FAILURE, TIMEOUT and AUTH_FAILURE; the event's merchant,
   * failure category, payment method and channel feed the segment cells. The entry is passed
   * whole, not its fields: V8 allocates a heap number for every double (the event and stream-id
   * times) passed to a call it does not inline.
   */
  add(entry: WindowEntry, flags: number): ProcessorWindow {
    const e = entry.event;
    const processor = e.processor;
    let h = this.last;
    if (processor !== this.lastName || h === undefined) {
      h = this.recent(processor);
      this.lastName = processor;
      this.last = h;
    }
    const p = h.p;
    p.touched = ++this.clock;
    if (h.ids.seen(entry)) {
      p.duplicates++;
      this.outcome = 'duplicate';
      return p;
    }
    const n = this.bucketCount;
    // Decode guarantees finite times and retries in 0..100; anything else is scored as too late
    // (at epoch 0 for a processor's first event) and as no retry, never corrupting the totals.
    let t = entry.eventTimeMs;
    if (!Number.isFinite(t)) t = p.watermarkMs === -Infinity ? 0 : -Infinity;
    const retryCount = e.retry_count;
    const retries = retryCount > 0 ? retryCount | 0 : 0;
    let b = Math.floor(t / BUCKET_MS);
    if (t > p.watermarkMs) {
      if (b > p.wmBucket) this.advance(p, b);
      p.watermarkMs = t;
      if (t < p.firstEventMs) p.firstEventMs = t;
      this.outcome = 'counted';
    } else if (t < p.watermarkMs - this.latenessMs || b <= p.wmBucket - n) {
      b = p.wmBucket;
      p.tooLate++;
      this.outcome = 'late';
    } else {
      if (t < p.firstEventMs) p.firstEventMs = t;
      this.outcome = 'counted';
    }
    const s = b === p.wmBucket ? p.curSlot : p.slotOf(b);
    if (p.ids[s] !== b) p.resetSlot(s, b);
    const failure = flags & FAILURE;
    const timeout = (flags & TIMEOUT) >>> 1;
    const auth = (flags & AUTH_FAILURE) >>> 2;
    p.events[s] = (p.events[s] ?? 0) + 1;
    p.failures[s] = (p.failures[s] ?? 0) + failure;
    p.timeouts[s] = (p.timeouts[s] ?? 0) + timeout;
    p.auth[s] = (p.auth[s] ?? 0) + auth;
    p.retries[s] = (p.retries[s] ?? 0) + retries;
    p.windowEvents++;
    p.windowFailures += failure;
    p.windowTimeouts += timeout;
    p.windowAuthFailures += auth;
    p.windowRetrySum += retries;
    const recent = b > p.wmBucket - this.recentBucketCount;
    if (recent) {
      p.recentEvents++;
      p.recentFailures += failure;
      p.recentTimeouts += timeout;
      p.recentAuthFailures += auth;
      p.recentRetrySum += retries;
    }
    let geoBit = -1;
    const geo = e.geo_bucket;
    if (geo !== undefined && geo !== '') {
      const bit = (geoBit = h.geos.bitOf(geo));
      const word = s * GEO_WORDS + (bit >>> 5);
      const mask = 1 << (bit & 31);
      const cur = p.geo[word] ?? 0;
      if ((cur & mask) === 0) {
        p.geo[word] = cur | mask;
        p.bumpGeo(bit, 1, recent ? 1 : 0);
      }
    }
    // Segments count every event in the watermark's bucket: their ring covers the recent span only.
    // Timeout and auth-failure categories have signals of their own; category cells watch the rest.
    if (p.segments !== null) {
      const cat = (flags & (TIMEOUT | AUTH_FAILURE)) === 0 ? e.failure_category : undefined;
      countSegments(
        p.segments,
        p.wmBucket,
        failure,
        geo,
        geoBit,
        e.merchant_id_hash,
        cat,
        e.payment_method_bucket,
        e.channel,
      );
    }
    p.counted++;
    return p;
  }

  /**
   * One processor's state as JSON-safe data (its window and geo dictionary), for a checkpoint;
   * undefined when the window holds nothing of it. `importProcessor` on any window with the same
   * options restores it exactly: the redelivery ids are not included (entries up to a
   * checkpoint are acknowledged with it and never delivered again).
   */
  exportProcessor(name: string): Plain | undefined {
    const h = this.byName.get(name);
    if (h === undefined) return undefined;
    return { window: toPlain(h.p), geos: toPlain(h.geos.entries()) };
  }

  /** Replaces `name`'s state with an `exportProcessor` result (from this or another node). */
  importProcessor(name: string, state: Plain): void {
    if (state === null || typeof state !== 'object' || Array.isArray(state))
      throw new TypeError('a processor checkpoint is an object');
    this.forget(name);
    const h = this.held(name);
    const window = state.window ?? null;
    if (window === null || typeof window !== 'object' || Array.isArray(window))
      throw new TypeError('a checkpoint holds an object');
    // Segment cells are read into the window's own tables, whichever layout wrote them.
    const { segments, ...rest } = window;
    restoreInto(h.p, rest);
    if (segments !== undefined)
      (h.p as { segments: SegmentState | null }).segments = restoreSegments(
        h.p.segments,
        h.p.recentBucketCount,
        segments,
      );
    h.p.touched = ++this.clock;
    h.geos.load(fromPlain(state.geos ?? []) as [string, number][]);
  }

  /** Drops `name`'s state (its partition moved to another consumer). */
  forget(name: string): void {
    this.byName.delete(name);
    this.last = undefined;
    this.recentNames.fill('');
    this.recentHeld.fill(undefined);
  }

  private recent(name: string): Held {
    const names = this.recentNames;
    for (let i = 0; i < RECENT; i++) {
      const h = this.recentHeld[i];
      if (names[i] === name && h !== undefined) return h;
    }
    const h = this.held(name);
    const j = this.recentNext;
    names[j] = name;
    this.recentHeld[j] = h;
    this.recentNext = j + 1 === RECENT ? 0 : j + 1;
    return h;
  }

  private held(name: string): Held {
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    if (this.byName.size >= this.maxProcessors) this.evictOldest();
    const h: Held = {
      p: new ProcessorWindow(name, this.bucketCount, this.recentBucketCount, this.segments),
      ids: new RecentIds(this.idCapacity),
      geos: new GeoInterner(),
    };
    this.byName.set(name, h);
    return h;
  }

  private evictOldest(): void {
    let oldest: ProcessorWindow | undefined;
    for (const h of this.byName.values()) if (oldest === undefined || h.p.touched < oldest.touched) oldest = h.p;
    if (oldest !== undefined) {
      this.forget(oldest.processor);
      this.evictions++;
    }
  }

  /** Moves `p`'s watermark bucket to `to`: buckets leave the recent span, then the window. */
  private advance(p: ProcessorWindow, to: number): void {
    const from = p.wmBucket;
    if (p.segments !== null && from !== -Infinity) {
      const fb = baselineRate(p.baseFailures, p.baseEvents, BASELINE_PRIOR.failureRate);
      advanceSegments(p.segments, from, to, this.decay, p, fb);
    }
    p.wmBucket = to;
    p.curSlot = p.slotOf(to);
    if (from === -Infinity) return;
    const n = this.bucketCount;
    const r = this.recentBucketCount;
    const d = this.decay;
    const gap = to - from;
    // The geo-novelty baseline samples the count as it stood at the end of the old bucket.
    // Only once older buckets exist: before that every geo is "novel" by construction.
    if (p.windowEvents > p.recentEvents) {
      const dg = gap === 1 ? d : Math.pow(d, gap);
      p.baseNovelSum = p.baseNovelSum * dg + p.novelGeos;
      p.baseNovelWeight = p.baseNovelWeight * dg + 1;
    }
    for (let k = from - r + 1, last = Math.min(from, to - r); k <= last; k++) p.leaveRecent(k);
    // Buckets leaving the window feed the baseline in time order: those up to the old watermark
    // (none before the processor's first event), then the empty ones a jump skipped.
    const first = Math.floor(p.firstEventMs / BUCKET_MS);
    for (let k = from - n + 1, last = Math.min(from, to - n); k <= last; k++) p.leaveWindow(k, k >= first ? d : 0);
    const empty = to - n - from;
    if (empty > 0) p.decayBaseline(empty === 1 ? d : Math.pow(d, empty), d);
  }
}
