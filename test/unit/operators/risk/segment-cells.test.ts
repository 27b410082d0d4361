import { describe, expect, it } from 'vitest';
import { RiskScorer } from '../../../../src/operators/risk/risk-scorer.js';
import { FAILURE, RiskWindow } from '../../../../src/operators/risk/risk-window.js';
import { SEGMENT_CELLS } from '../../../../src/operators/risk/segment-cells.js';
import type { Plain } from '../../../../src/operators/risk/plain-state.js';
import type { RiskAssessment } from '../../../../src/pipeline/types.js';
import { T0, envelope, windowEntry } from '../fixtures.js';

const OPTIONS = { model: 'adaptive', windowSec: 300, allowedLatenessSec: 30, thresholds: [0.3, 0.6, 0.8] } as const;
const GEOS = ['US', 'US', 'US', 'US', 'US', 'US', 'GB', 'GB', 'GB', 'BR'];

/** 20 events/s for `minutes`; `fails(i, geo, merchant)` says which fail. */
function run(minutes: number, fails: (i: number, geo: string, merchant: string) => boolean): RiskAssessment[] {
  const scorer = new RiskScorer(OPTIONS);
  const out: RiskAssessment[] = [];
  for (let i = 0; i < minutes * 60 * 20; i++) {
    const geo = GEOS[i % 10] ?? 'US';
    const merchant = `m${i % 7}`;
    const failed = fails(i, geo, merchant);
    out.push(
      scorer.score(envelope({ at: T0 + i * 50, geo, merchant, category: failed ? 'card_declined' : undefined })),
    );
  }
  return out;
}

const ONSET = 12 * 60 * 20;
const healthy = (i: number) => i % 13 === 0;

describe('segment cells', () => {
  it('names a failing geo: geo_failure_concentration with processor_risk_focus {"geo_bucket":"BR"}', () => {
    const a = run(15, (i, geo) => (i >= ONSET && geo === 'BR' ? i % 20 !== 0 : healthy(i)));
    expect(a.slice(0, ONSET).some((x) => x.focus !== undefined)).toBe(false);
    const first = a.findIndex((x, i) => i >= ONSET && x.drivers.includes('geo_failure_concentration'));
    expect(first).toBeGreaterThan(0);
    expect((first - ONSET) / 20).toBeLessThanOrEqual(30);
    expect(a[first]?.focus).toEqual({ geo_bucket: 'BR' });
    expect(a[first]?.band).not.toBe('low');
  });

  it('names a failing merchant: segment_failure_concentration with its merchant_id_hash', () => {
    const a = run(15, (i, _geo, merchant) => (i >= ONSET && merchant === 'm3' ? i % 10 !== 0 : healthy(i)));
    const hit = a.find((x, i) => i >= ONSET && x.drivers.includes('segment_failure_concentration'));
    expect(hit?.focus).toEqual({ merchant_id_hash: 'm3' });
  });

  it('names no segment when failures rise everywhere alike', () => {
    const a = run(15, (i) => (i >= ONSET ? i % 3 === 0 : healthy(i)));
    const alarmed = a.slice(ONSET).filter((x) => x.band !== 'low');
    expect(alarmed.length).toBeGreaterThan(1_000);
    expect(alarmed.filter((x) => x.focus !== undefined).length / alarmed.length).toBeLessThan(0.02);
  });

  it('keeps memory bounded whatever the cardinality, and a heavy merchant keeps its cell', () => {
    const w = new RiskWindow({ windowSec: 300, allowedLatenessSec: 30 });
    for (let i = 0; i < 100_000; i++) {
      const merchant = i % 4 === 0 ? 'heavy' : `m${i}`;
      w.add(windowEntry(T0 + i * 10, { geo: `g${i % 1000}`, merchant }), i % 9 === 0 ? FAILURE : 0);
    }
    const seg = w.get('stripe')?.segments;
    expect(seg?.tables.map((t) => t.keys.length)).toEqual([SEGMENT_CELLS, SEGMENT_CELLS, SEGMENT_CELLS, SEGMENT_CELLS]);
    expect(seg?.tables[1]?.keys).toContain('heavy');
  });

  it('is plain data: a checkpoint through JSON restores it exactly', () => {
    const w = new RiskWindow({ windowSec: 300, allowedLatenessSec: 30 });
    for (let i = 0; i < 5_000; i++)
      w.add(
        windowEntry(T0 + i * 50, {
          geo: GEOS[i % 10],
          merchant: `m${i % 3}`,
          category: 'card_declined',
          method: 'wallet',
        }),
        i % 5 === 0 ? FAILURE : 0,
      );
    const seg = w.get('stripe')?.segments;
    const restored = new RiskWindow({ windowSec: 300, allowedLatenessSec: 30 });
    restored.importProcessor('stripe', JSON.parse(JSON.stringify(w.exportProcessor('stripe'))) as Plain);
    expect(restored.get('stripe')?.segments).toEqual(seg);
    expect(seg?.tables[3]?.keys).toContain('wallet');
  });
});
