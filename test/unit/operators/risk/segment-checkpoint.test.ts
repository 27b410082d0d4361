import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Plain } from '../../../../src/operators/risk/plain-state.js';
import { RiskScorer } from '../../../../src/operators/risk/risk-scorer.js';
import {
  BASE_EVENTS,
  BASE_FAILURES,
  RECENT_EVENTS,
  RECENT_FAILURES,
  RING,
  SEVERITY,
  WEIGHT,
} from '../../../../src/operators/risk/segment-cells.js';
import type { Envelope } from '../../../../src/pipeline/types.js';
import { T0, envelope } from '../fixtures.js';

const OPTIONS = { model: 'adaptive', windowSec: 300, allowedLatenessSec: 30, thresholds: [0.3, 0.6, 0.8] } as const;
const GEOS = ['US', 'US', 'US', 'US', 'US', 'US', 'GB', 'GB', 'GB', 'BR'];
const PER_MIN = 1_200;
const ONSET = 12 * PER_MIN;

/**
 * Event i of the stream the fixture was written from: 20 events/s of one processor over three
 * geos, seven merchants, two failure categories and two payment methods; from minute 12 the
 * geo BR fails.
 */
function entry(i: number): Envelope {
  const at = T0 + i * 50;
  const geo = GEOS[i % 10] ?? 'US';
  const failed = i >= ONSET && geo === 'BR' ? i % 20 !== 0 : i % 13 === 0;
  return envelope({
    at,
    id: `${at}-0`,
    geo,
    merchant: `m${i % 7}`,
    failed,
    category: failed ? (i % 3 === 0 ? 'do_not_honor' : 'card_declined') : undefined,
    method: i % 4 === 0 ? 'wallet' : 'card',
  });
}

interface OldTable {
  readonly dim: string;
  readonly keys: string[];
  readonly ids: number[];
  readonly hashes: number[];
  readonly ringEvents: number[];
  readonly ringFailures: number[];
  readonly recentEvents: number[];
  readonly recentFailures: number[];
  readonly baseEvents: number[];
  readonly baseFailures: number[];
  readonly weight: number[];
  readonly severity: number[];
}

interface Fixture {
  readonly cut: number;
  readonly end: number;
  readonly checkpoint: Plain;
}

/** Scores events [from, to) and describes them as the fixture does. */
function continuation(s: RiskScorer, from: number, to: number): { cents: string; changes: [number, string][] } {
  const cents: number[] = [];
  const changes: [number, string][] = [];
  let last = '';
  for (let i = from; i < to; i++) {
    const a = s.score(entry(i));
    cents.push(Math.round(a.score * 100));
    const label = `${a.band} ${a.drivers.join(',')} ${JSON.stringify(a.focus ?? null)}`;
    if (label !== last) changes.push([i, label]);
    last = label;
  }
  return { cents: cents.join(','), changes };
}

describe('segment cells in a checkpoint', () => {
  it('restores a checkpoint written with one array per cell field: every number in its cell, the scoring goes on', () => {
    // Written by the layout before one packed Float64Array per table: its `segments` tables hold
    // ids, hashes, ringEvents, … as arrays of numbers. Its processor is 11 minutes in; the geo BR
    // fails from minute 12.
    const url = new URL('./fixtures/checkpoint-segments-arrays.json', import.meta.url);
    const f = JSON.parse(readFileSync(url, 'utf8')) as Fixture;
    const old = (f.checkpoint as unknown as { window: { segments: { r: number; tables: OldTable[] } } }).window
      .segments;
    const s = new RiskScorer(OPTIONS);
    s.window.importProcessor('stripe', f.checkpoint);
    const seg = s.window.get('stripe')?.segments;
    const r = old.r;
    let cells = 0;
    old.tables.forEach((o, i) => {
      const t = seg?.tables[i];
      expect(t?.keys).toEqual(o.keys);
      for (let k = 0; k < o.keys.length; k++) {
        if (o.keys[k] === '' || t === undefined) continue;
        cells++;
        const at = (offset: number): number => t.cells[k * t.stride + offset] ?? NaN;
        expect([RECENT_EVENTS, RECENT_FAILURES, BASE_EVENTS, BASE_FAILURES, WEIGHT, SEVERITY].map(at)).toEqual([
          o.recentEvents[k],
          o.recentFailures[k],
          o.baseEvents[k],
          o.baseFailures[k],
          o.weight[k],
          o.severity[k],
        ]);
        for (let j = 0; j < r; j++) {
          expect(at(RING + j)).toBe(o.ringEvents[k * r + j]);
          expect(at(RING + r + j)).toBe(o.ringFailures[k * r + j]);
        }
        expect(t.tags[k]).toBe(t.dim === 'geo' ? o.ids[k] : o.hashes[k]);
      }
    });
    // Three geos, seven merchants, two categories, two payment methods.
    expect(cells).toBe(14);
    const next = continuation(s, f.cut, f.end);
    const hit = next.changes.find(([, label]) => label.includes('geo_failure_concentration'));
    expect(hit?.[1]).toContain('{"geo_bucket":"BR"}');
    expect((hit?.[0] ?? Infinity) - ONSET).toBeLessThan(30 * 20);
  });

  it('round-trips through JSON: the restored window scores as the one that never stopped', () => {
    const cut = 11 * PER_MIN;
    const end = 14 * PER_MIN;
    const live = new RiskScorer(OPTIONS);
    for (let i = 0; i < cut; i++) live.score(entry(i));
    const state = JSON.parse(JSON.stringify(live.window.exportProcessor('stripe'))) as Plain;
    const restored = new RiskScorer(OPTIONS);
    restored.window.importProcessor('stripe', state);
    expect(restored.window.get('stripe')?.segments).toEqual(live.window.get('stripe')?.segments);
    const a = continuation(live, cut, end);
    const b = continuation(restored, cut, end);
    expect(b).toEqual(a);
    expect(a.changes.some(([, label]) => label.includes('geo_failure_concentration'))).toBe(true);
  });

  it('refuses segments of another shape with a TypeError', () => {
    const s = new RiskScorer(OPTIONS);
    for (let i = 0; i < 2_000; i++) s.score(entry(i));
    const state = JSON.parse(JSON.stringify(s.window.exportProcessor('stripe'))) as {
      window: { segments: { r: number } };
    };
    state.window.segments.r = 5;
    expect(() => new RiskScorer(OPTIONS).window.importProcessor('stripe', state as unknown as Plain)).toThrow(
      TypeError,
    );
  });
});
