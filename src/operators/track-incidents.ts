/**
 * `trackIncidents`: per-processor risk incidents from per-event risk. One incident per
 * processor at a time, never one warning per event, and only on sustained risk:
 *
 *   low ──(elevated)──▶ PENDING ──(still elevated holdSec after its first event, or high)──▶ OPEN
 *    ▲                     │                                                          │
 *    └────(a low event)────┘                 ┌──────(band above peak)──▶ escalate ────┤
 *    ▲                                       └──(band ≥ elevated: update) ◀───────────┤
 *    └──────(band stays low for cooldownSec of event time)──▶ RESOLVED ◀──────────────┘
 *           (resolved_at = first low event + cooldownSec)
 *
 * A band of `high` or worse opens at once. A touch of `elevated` that a low event ends within
 * `holdSec` of event time opens nothing: on healthy low-volume traffic such touches are the
 * binomial tail of looking at every event, and they last seconds.
 *
 * Pure over event time: the only wall clock is the injected `now()`, read once per opened
 * incident for `processed_at`.
 */
import { defer, map, type OperatorFunction } from 'rxjs';
import { BAND_RANK, type Band, type RiskDriverOrStatus } from '../risk-terms.js';
import type { Batch, Envelope, RiskAssessment } from '../pipeline/types.js';
import { fromPlain, toPlain, type Plain } from './risk/plain-state.js';

export const INCIDENT_STATUSES = ['open', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const INCIDENT_TRANSITION_KINDS = ['open', 'escalate', 'update', 'resolve'] as const;
export type IncidentTransitionKind = (typeof INCIDENT_TRANSITION_KINDS)[number];

/** The incident part of a warning, in wire order. The store adds the `outcome_*` fields. */
export interface Incident {
  readonly warning_id: string;
  /** The event that opened the incident. */
  readonly event_id: string;
  readonly processor: string;
  readonly merchant_id_hash: string | null;
  /** Wall-clock time the incident was opened by PayFlux (ISO 8601). */
  readonly processed_at: string;
  /** The opener's `event_timestamp`, verbatim. */
  readonly event_timestamp: string;
  /** Score, band and drivers of the latest elevated-or-worse event. */
  readonly processor_risk_score: number;
  readonly processor_risk_band: Band;
  readonly processor_risk_drivers: readonly RiskDriverOrStatus[];
  /**
   * The segment failures concentrate in, as on the export line (`{"geo_bucket":"BR"}`), or null.
   * Absent on warnings stored before it existed.
   */
  readonly processor_risk_focus?: Readonly<Record<string, string>> | null;
  /** Tier 2 only (undefined, hence absent from JSON, on tier 1). */
  readonly processor_playbook_context: string | undefined;
  readonly risk_trajectory: string | undefined;
  readonly status: IncidentStatus;
  /** Event time of the opener (ISO 8601). */
  readonly opened_at: string;
  /** Event time at which the cooldown completed (ISO 8601), null while open. */
  readonly resolved_at: string | null;
  readonly peak_score: number;
  readonly peak_band: Band;
  /** Elevated-or-worse events seen while open. */
  readonly event_count: number;
}

/** One state change, with a snapshot of the incident right after it. */
export interface IncidentTransition {
  readonly kind: IncidentTransitionKind;
  readonly incident: Incident;
}

export interface IncidentBatch {
  readonly batch: Batch;
  /** In the order they happened; at most one `update` per incident, after its other transitions. */
  readonly transitions: readonly IncidentTransition[];
}

/** Default `holdSec`: how long an `elevated` band must hold before it opens an incident. */
export const WARNING_HOLD_SEC = 10;

export interface TrackIncidentsOptions {
  /** Seconds of event time the band must stay `low` before an incident resolves. */
  readonly cooldownSec: number;
  /**
   * Seconds of event time an `elevated` band must hold (no `low` event of the processor in
   * between) before it opens an incident; `high` or worse opens at once. Default `WARNING_HOLD_SEC`.
   */
  readonly holdSec?: number;
  /** Wall clock (epoch ms) for `processed_at`. */
  readonly now: () => number;
  /** Incidents open at start (the store's `loadOpen()`), so a restart continues them. */
  readonly seed?: readonly Incident[];
  /** Called once per subscription with its state, so that partitions can be checkpointed and restored. */
  readonly onBook?: (book: IncidentBook) => void;
  /**
   * An event-time clock beyond the batch's (epoch ms; -1 none), read once per batch: the newest
   * event time committed over every partition of a cluster, so that a processor whose owner
   * reads nothing else still resolves (`IncidentBook.apply`).
   */
  readonly clock?: () => number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface OpenIncident {
  readonly w: Mutable<Incident>;
  /** Event time of the first `low` event of the current quiet spell; -1 while not quiet. */
  lowSinceMs: number;
  /** Changed since the last transition emitted for it. */
  dirty: boolean;
  /** The batch (`IncidentBook.batches`) in which this processor last had an event. */
  seenInBatch: number;
}

/**
 * A fixed-shape copy of an incident's own fields (of a stored warning too): snapshots must not
 * change when the live incident does.
 */
export function copyIncident(i: Incident): Mutable<Incident> {
  return {
    warning_id: i.warning_id,
    event_id: i.event_id,
    processor: i.processor,
    merchant_id_hash: i.merchant_id_hash,
    processed_at: i.processed_at,
    event_timestamp: i.event_timestamp,
    processor_risk_score: i.processor_risk_score,
    processor_risk_band: i.processor_risk_band,
    processor_risk_drivers: i.processor_risk_drivers,
    processor_risk_focus: i.processor_risk_focus ?? null,
    processor_playbook_context: i.processor_playbook_context,
    risk_trajectory: i.risk_trajectory,
    status: i.status,
    opened_at: i.opened_at,
    resolved_at: i.resolved_at,
    peak_score: i.peak_score,
    peak_band: i.peak_band,
    event_count: i.event_count,
  };
}

/**
 * The state behind `trackIncidents`: the open incident of each processor, and when the elevated
 * run of a processor without one began. Plain class, no RxJS. Memory: one entry per processor
 * with an open incident or an elevated run (processors are a configured, closed set); resolved
 * incidents are dropped at once.
 */
export class IncidentBook {
  private readonly open = new Map<string, OpenIncident>();
  /** Event time of the first event of each elevated run not (yet) an incident. */
  private readonly pending = new Map<string, number>();
  private batches = 0;

  constructor(
    private readonly cooldownMs: number,
    private readonly now: () => number,
    seed: readonly Incident[] = [],
    private readonly holdMs = WARNING_HOLD_SEC * 1000,
  ) {
    for (const s of seed)
      if (s.status === 'open')
        this.open.set(s.processor, { w: copyIncident(s), lowSinceMs: -1, dirty: false, seenInBatch: -1 });
  }

  get openCount(): number {
    return this.open.size;
  }

  /**
   * Feed one batch in stream order; returns the transitions it caused. `clockMs`: event time
   * known to have passed elsewhere (the cluster's watermark), for processors without an event
   * in the batch, as the batch's own newest event time is.
   */
  apply(entries: readonly Envelope[], clockMs = -1): IncidentTransition[] {
    const out: IncidentTransition[] = [];
    const batch = ++this.batches;
    let watermark = clockMs;
    for (const env of entries) {
      const risk = env.risk;
      if (risk === undefined) continue;
      const t = env.eventTimeMs;
      if (t > watermark) watermark = t;
      const processor = env.event.processor;
      let cur = this.open.get(processor);
      if (cur !== undefined) {
        if (risk.band === 'low' && cur.lowSinceMs < 0) cur.lowSinceMs = t;
        // A quiet spell as long as the cooldown ends the incident, as of the spell's end (the
        // same instant however events and batches fall), whichever event shows it: an elevated
        // event after it starts a new one.
        if (cur.lowSinceMs >= 0 && t - cur.lowSinceMs >= this.cooldownMs) {
          this.resolve(cur, cur.lowSinceMs + this.cooldownMs, out);
          cur = undefined;
        } else cur.seenInBatch = batch;
      }
      if (risk.band === 'low') {
        if (cur === undefined) this.pending.delete(processor);
        continue;
      }
      if (cur === undefined) {
        if (this.held(processor, risk.band, t)) this.openIncident(env, risk, out);
        continue;
      }
      const w = cur.w;
      cur.lowSinceMs = -1;
      w.processor_risk_score = risk.score;
      w.processor_risk_band = risk.band;
      w.processor_risk_drivers = risk.drivers;
      w.processor_risk_focus = risk.focus ?? null;
      w.processor_playbook_context = env.tier?.playbookContext;
      w.risk_trajectory = env.tier?.riskTrajectory;
      w.event_count += 1;
      if (risk.score > w.peak_score) w.peak_score = risk.score;
      if (BAND_RANK[risk.band] > BAND_RANK[w.peak_band]) {
        w.peak_band = risk.band;
        out.push({ kind: 'escalate', incident: copyIncident(w) });
        cur.dirty = false;
      } else {
        cur.dirty = true;
      }
    }
    // A processor that went quiet and then silent still resolves: the batch's newest event time
    // stands in for its own clock. Only when it had no event in the batch: one that did runs on
    // its own events (quiet above), so another processor's clock — up to the allowed skew ahead —
    // cannot cut its cooldown short.
    // It resolves at the moment its cooldown ended, whichever batch brings the clock past it: the
    // incident is the same however batches fall, live or in a backtest, on one node or several.
    for (const cur of this.open.values()) {
      if (cur.seenInBatch !== batch && cur.lowSinceMs >= 0 && watermark - cur.lowSinceMs >= this.cooldownMs)
        this.resolve(cur, cur.lowSinceMs + this.cooldownMs, out);
    }
    for (const cur of this.open.values()) {
      if (cur.dirty) {
        out.push({ kind: 'update', incident: copyIncident(cur.w) });
        cur.dirty = false;
      }
    }
    return out;
  }

  /**
   * One processor's incident state as JSON-safe data, for a checkpoint: its open incident, or the
   * start of its elevated run (`{"pendingSinceMs":…}`); null when it has neither.
   */
  exportProcessor(processor: string): Plain {
    const cur = this.open.get(processor);
    if (cur !== undefined) return toPlain({ w: cur.w, lowSinceMs: cur.lowSinceMs, dirty: cur.dirty });
    const since = this.pending.get(processor);
    return since === undefined ? null : { pendingSinceMs: since };
  }

  /** Replaces `processor`'s incident state with an `exportProcessor` result. */
  importProcessor(processor: string, state: Plain): void {
    this.open.delete(processor);
    this.pending.delete(processor);
    if (state === null) return;
    const s = fromPlain(state) as { w?: Incident; lowSinceMs: number; dirty: boolean; pendingSinceMs?: number };
    if (s.w !== undefined)
      this.open.set(processor, { w: copyIncident(s.w), lowSinceMs: s.lowSinceMs, dirty: s.dirty, seenInBatch: -1 });
    else if (typeof s.pendingSinceMs === 'number') this.pending.set(processor, s.pendingSinceMs);
  }

  /**
   * Whether an event of band ≥ elevated at event time `t` opens an incident for a processor
   * without one: `high` or worse at once, `elevated` once its run has lasted `holdMs`.
   */
  private held(processor: string, band: Band, t: number): boolean {
    const since = this.pending.get(processor);
    if (BAND_RANK[band] >= BAND_RANK.high || this.holdMs <= 0 || (since !== undefined && t - since >= this.holdMs)) {
      if (since !== undefined) this.pending.delete(processor);
      return true;
    }
    if (since === undefined) this.pending.set(processor, t);
    return false;
  }

  private openIncident(env: Envelope, risk: RiskAssessment, out: IncidentTransition[]): void {
    const e = env.event;
    const openedAt = new Date(env.eventTimeMs).toISOString();
    const w: Mutable<Incident> = {
      // Deterministic: a batch redelivered after a crash re-opens under the same id (idempotent upsert).
      warning_id: `${e.processor}:${e.event_id}`,
      event_id: e.event_id,
      processor: e.processor,
      merchant_id_hash: e.merchant_id_hash ?? null,
      processed_at: new Date(this.now()).toISOString(),
      event_timestamp: e.event_timestamp,
      processor_risk_score: risk.score,
      processor_risk_band: risk.band,
      processor_risk_drivers: risk.drivers,
      processor_risk_focus: risk.focus ?? null,
      processor_playbook_context: env.tier?.playbookContext,
      risk_trajectory: env.tier?.riskTrajectory,
      status: 'open',
      opened_at: openedAt,
      resolved_at: null,
      peak_score: risk.score,
      peak_band: risk.band,
      event_count: 1,
    };
    this.open.set(e.processor, { w, lowSinceMs: -1, dirty: false, seenInBatch: -1 });
    out.push({ kind: 'open', incident: copyIncident(w) });
  }

  private resolve(cur: OpenIncident, atMs: number, out: IncidentTransition[]): void {
    cur.w.status = 'resolved';
    cur.w.resolved_at = new Date(atMs).toISOString();
    cur.dirty = false;
    this.open.delete(cur.w.processor);
    out.push({ kind: 'resolve', incident: copyIncident(cur.w) });
  }
}

/**
 * Turn scored batches into incident transitions, one `IncidentBatch` per input batch, in order.
 *
 * - Emits exactly one value per batch (with an empty `transitions` list when nothing changed).
 * - Events without `risk` are ignored. Every subscription has its own state, started from `seed`.
 * - Completes when the source completes; source errors pass through; an error thrown by `now()`
 *   errors the stream.
 * - Resolution after a restart: the quiet spell restarts at the first `low` event seen, so a
 *   seeded incident may resolve up to one cooldown later than without the restart.
 */
export function trackIncidents(options: TrackIncidentsOptions): OperatorFunction<Batch, IncidentBatch> {
  const cooldownMs = options.cooldownSec * 1000;
  if (!Number.isFinite(cooldownMs) || cooldownMs < 0) throw new RangeError('cooldownSec must be a finite number ≥ 0');
  const holdMs = (options.holdSec ?? WARNING_HOLD_SEC) * 1000;
  if (!Number.isFinite(holdMs) || holdMs < 0) throw new RangeError('holdSec must be a finite number ≥ 0');
  const { now, seed = [], clock } = options;
  return (source$) =>
    defer(() => {
      const book = new IncidentBook(cooldownMs, now, seed, holdMs);
      options.onBook?.(book);
      // Warm-up batches only rebuild the risk window: the incidents they would replay are already
      // in the store (and seeded), so counting them again would double `event_count`.
      return source$.pipe(
        map((batch): IncidentBatch => ({
          batch,
          transitions: batch.warmup === true ? [] : book.apply(batch.entries, clock?.() ?? -1),
        })),
      );
    });
}
