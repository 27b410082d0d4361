/**
 * What the dashboard shows, read from Redis only (the risk history and the warning store), so
 * that every node answers alike whichever node scores a processor:
 * - `snapshot()`: every processor's latest state for the live tiles, with its open incident;
 * - `history(processor, range)`: risk over time, reduced to at most 360 points, with the
 *   incidents and outcomes in the range.
 */
import {
  BAND_RANK,
  TIER_LABELS,
  type Band,
  type RiskDriverOrStatus,
  type Tier,
  type Trajectory,
} from '../risk-terms.js';
import { SLOT_MS, type LiveRisk, type RiskHistory, type RiskPoint } from './risk-history.js';
import type { Warning } from './warning.js';
import type { WarningStore } from './warning-store.js';

export const RANGES = {
  '1h': { ms: 3_600_000, stepMs: 10_000 },
  '6h': { ms: 21_600_000, stepMs: 60_000 },
  '24h': { ms: 86_400_000, stepMs: 240_000 },
} as const;
export type RangeName = keyof typeof RANGES;
export const RANGE_NAMES = Object.keys(RANGES) as readonly RangeName[];

/** Events per minute: the slots of the minute of event time up to the newest event. */
const MINUTE_SLOTS = 60_000 / SLOT_MS;
/** Incidents of one processor looked at for one chart (newest first). */
const MAX_CHART_INCIDENTS = 200;

export interface OpenIncidentRef {
  readonly warning_id: string;
  readonly opened_at: string;
  readonly peak_band: Band;
  readonly peak_score: number;
}

export interface ProcessorTile extends LiveRisk {
  /** Events in the last minute of event time; 0 once the newest event is a minute old (wall clock). */
  readonly events_per_min: number;
  readonly open_incident: OpenIncidentRef | null;
}

export interface LiveSnapshot {
  readonly tier: Tier;
  readonly tier_label: string;
  readonly thresholds: readonly number[];
  readonly history_hours: number;
  readonly generated_at: string;
  /** Processors with a state within the history span, by name. */
  readonly processors: readonly ProcessorTile[];
  /** Configured processors with none. */
  readonly quiet: readonly string[];
}

export interface ChartPoint {
  /** Step start, epoch ms. */
  readonly t: number;
  /** Highest score in the step and its band. */
  readonly max_score: number;
  readonly max_band: Band;
  /** As of the step's end. */
  readonly score: number;
  readonly band: Band;
  readonly events: number;
  readonly failures: number;
  readonly drivers: readonly RiskDriverOrStatus[];
  readonly trajectory: Trajectory;
}

export interface ChartIncident {
  readonly warning_id: string;
  readonly status: Warning['status'];
  readonly opened_at: string;
  readonly resolved_at: string | null;
  readonly processed_at: string;
  readonly peak_score: number;
  readonly peak_band: Band;
  readonly outcome_type: Warning['outcome_type'];
  readonly outcome_timestamp: string | null;
  /** Outcome time − `processed_at`, as the annotation line reports it. */
  readonly lead_time_seconds: number | null;
}

export interface HistoryView {
  readonly processor: string;
  readonly range: RangeName;
  readonly from: number;
  readonly to: number;
  readonly step_sec: number;
  readonly thresholds: readonly number[];
  readonly points: readonly ChartPoint[];
  readonly incidents: readonly ChartIncident[];
}

export interface LiveStateOptions {
  readonly history: RiskHistory;
  readonly store: WarningStore;
  /** PAYFLUX_PROCESSORS: the processors events may name. */
  readonly processors: readonly string[];
  readonly tier: Tier;
  readonly thresholds: readonly number[];
  readonly historyHours: number;
  /** Wall clock, epoch ms. */
  readonly now?: () => number;
}

export interface LiveState {
  snapshot(): Promise<LiveSnapshot>;
  history(processor: string, range: RangeName): Promise<HistoryView>;
}

/** Points of one step merged: the maximum stays, counts add up, the rest is the later slot's. */
export function reducePoints(points: readonly RiskPoint[], stepMs: number): ChartPoint[] {
  const out: ChartPoint[] = [];
  let cur: ChartPoint | undefined;
  for (const p of points) {
    const t = p.t - (p.t % stepMs);
    if (cur !== undefined && cur.t === t) {
      cur = {
        t,
        max_score: Math.max(cur.max_score, p.maxScore),
        max_band: BAND_RANK[p.maxBand] > BAND_RANK[cur.max_band] ? p.maxBand : cur.max_band,
        score: p.score,
        band: p.band,
        events: cur.events + p.events,
        failures: cur.failures + p.failures,
        drivers: p.drivers,
        trajectory: p.trajectory,
      };
      out[out.length - 1] = cur;
      continue;
    }
    cur = {
      t,
      max_score: p.maxScore,
      max_band: p.maxBand,
      score: p.score,
      band: p.band,
      events: p.events,
      failures: p.failures,
      drivers: p.drivers,
      trajectory: p.trajectory,
    };
    out.push(cur);
  }
  return out;
}

const ms = (iso: string | null): number => (iso === null ? NaN : Date.parse(iso));

function chartIncident(w: Warning): ChartIncident {
  const lead =
    w.outcome_timestamp === null || w.outcome_type === 'none'
      ? null
      : Math.round((ms(w.outcome_timestamp) - ms(w.processed_at)) / 1000);
  return {
    warning_id: w.warning_id,
    status: w.status,
    opened_at: w.opened_at,
    resolved_at: w.resolved_at,
    processed_at: w.processed_at,
    peak_score: w.peak_score,
    peak_band: w.peak_band,
    outcome_type: w.outcome_type,
    outcome_timestamp: w.outcome_timestamp,
    lead_time_seconds: Number.isFinite(lead) ? lead : null,
  };
}

export function createLiveState(o: LiveStateOptions): LiveState {
  const { history, store } = o;
  const now = o.now ?? Date.now;

  /**
   * One processor has one incident at a time, so walking its warnings newest first, the first
   * one opened before `from` is the only older one that can still reach into the range.
   */
  const incidentsIn = async (processor: string, from: number): Promise<ChartIncident[]> => {
    const out: ChartIncident[] = [];
    let cursor: string | undefined;
    while (out.length < MAX_CHART_INCIDENTS) {
      const page = await store.list({ processor, limit: 100, cursor });
      for (const w of page.warnings) {
        const opened = ms(w.opened_at);
        if (opened >= from) {
          out.push(chartIncident(w));
          continue;
        }
        if (w.status === 'open' || ms(w.resolved_at) >= from) out.push(chartIncident(w));
        return out;
      }
      if (page.nextCursor === null) return out;
      cursor = page.nextCursor;
    }
    return out;
  };

  const tile = async (live: LiveRisk, open: Warning | undefined, t: number): Promise<ProcessorTile> => {
    const last = ms(live.last_event_at);
    let epm = 0;
    if (t - last <= 60_000) {
      const slots = await history.read(live.processor, last - (MINUTE_SLOTS - 1) * SLOT_MS, last);
      for (const p of slots) epm += p.events;
    }
    return {
      ...live,
      events_per_min: epm,
      open_incident:
        open === undefined
          ? null
          : {
              warning_id: open.warning_id,
              opened_at: open.opened_at,
              peak_band: open.peak_band,
              peak_score: open.peak_score,
            },
    };
  };

  return {
    async snapshot() {
      const t = now();
      const [lives, open] = await Promise.all([
        Promise.all(o.processors.map((p) => history.live(p))),
        // At most one open incident per processor.
        store.list({ status: 'open', limit: 500 }),
      ]);
      const openBy = new Map(open.warnings.map((w) => [w.processor, w]));
      const present = lives.filter((l): l is LiveRisk => l !== undefined);
      const tiles = await Promise.all(present.map((l) => tile(l, openBy.get(l.processor), t)));
      tiles.sort((a, b) => (a.processor < b.processor ? -1 : a.processor > b.processor ? 1 : 0));
      const seen = new Set(present.map((l) => l.processor));
      return {
        tier: o.tier,
        tier_label: TIER_LABELS[o.tier],
        thresholds: o.thresholds,
        history_hours: o.historyHours,
        generated_at: new Date(t).toISOString(),
        processors: tiles,
        quiet: o.processors.filter((p) => !seen.has(p)),
      };
    },

    async history(processor, range) {
      const r = RANGES[range];
      const live = await history.live(processor);
      // Event time may run ahead of this clock by the allowed skew: the chart ends at the newer.
      const to = Math.max(now(), live === undefined ? 0 : ms(live.last_event_at));
      const from = to - r.ms;
      const [slots, incidents] = await Promise.all([history.read(processor, from, to), incidentsIn(processor, from)]);
      return {
        processor,
        range,
        from,
        to,
        step_sec: r.stepMs / 1000,
        thresholds: o.thresholds,
        points: reducePoints(slots, r.stepMs),
        incidents: incidents.reverse(),
      };
    },
  };
}
