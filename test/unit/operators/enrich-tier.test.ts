import { EMPTY, Subject, concat, from, lastValueFrom, of, throwError, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTierContexts, enrichTier } from '../../../src/operators/enrich-tier.js';
import { BAND_SENTENCES, DRIVER_SENTENCES, FOCUS_TEMPLATE } from '../../../src/operators/playbook-sentences.js';
import { DRIVER_LISTS, NOMINAL } from '../../../src/operators/risk/risk-model.js';
import { scoreRisk } from '../../../src/operators/score-risk.js';
import type { Batch, RiskAssessment } from '../../../src/pipeline/types.js';
import { batchOf, inBucket } from './fixtures.js';

const risk = (over: Partial<RiskAssessment> = {}): RiskAssessment => ({
  score: 0.65,
  band: 'high',
  drivers: DRIVER_LISTS[0b101] ?? NOMINAL,
  trajectory: 'accelerating',
  trajectoryRatio: 3.2,
  ...over,
});

/** A failing processor, scored: every envelope carries a high-or-worse assessment. */
function scoredBatch(): Promise<Batch> {
  const b = batchOf([...inBucket(0, 20), ...inBucket(1, 30, { category: 'gateway_timeout', geo: 'US' })]);
  return lastValueFrom(
    of(b).pipe(scoreRisk({ model: 'adaptive', windowSec: 300, allowedLatenessSec: 30, thresholds: [0.3, 0.6, 0.8] })),
  );
}

describe('enrichTier: tier 1', () => {
  it('never carries interpretation, whatever an earlier stage left', async () => {
    const b = await scoredBatch();
    for (const e of b.entries) e.tier = { playbookContext: 'left over', riskTrajectory: 'left over' };
    const [out] = await lastValueFrom(of(b).pipe(enrichTier({ tier: 'tier1', windowSec: 300 }), toArray()));
    expect(out).toBe(b);
    expect(out!.entries.every((e) => e.tier === undefined && e.risk !== undefined)).toBe(true);
  });
});

describe('enrichTier: tier 2', () => {
  it('adds the band sentence, one sentence per driver and the trajectory', async () => {
    const b = await scoredBatch();
    await lastValueFrom(of(b).pipe(enrichTier({ tier: 'tier2', windowSec: 300 })));
    const last = b.entries.at(-1)!;
    expect(last.risk!.band).not.toBe('low');
    expect(last.tier!.playbookContext.startsWith(BAND_SENTENCES[last.risk!.band as 'high'])).toBe(true);
    expect(last.tier!.playbookContext).toContain(DRIVER_SENTENCES.timeout_clustering);
    expect(last.tier!.riskTrajectory).toMatch(
      /^Pattern accelerating: ~\d+\.\d× above baseline over the last 5 minutes\.$/,
    );
  });

  it('writes an empty playbook for low and no trajectory when stable below 1.5×', () => {
    const contextOf = createTierContexts(300);
    expect(
      contextOf(risk({ score: 0.1, band: 'low', drivers: NOMINAL, trajectory: 'stable', trajectoryRatio: 1.4 })),
    ).toEqual({
      playbookContext: '',
      riskTrajectory: undefined,
    });
    expect(
      contextOf(risk({ score: 0.1, band: 'low', trajectory: 'stable', trajectoryRatio: 1.6 })).riskTrajectory,
    ).toBe('Elevation sustained: ~1.6× above baseline over the last 5 minutes.');
  });

  it('orders driver sentences by the contract, also for driver lists it did not make', () => {
    const contextOf = createTierContexts(300);
    const text = contextOf(
      risk({ drivers: ['geo_entropy_increase', 'high_failure_rate'], trajectoryRatio: 3.25 }),
    ).playbookContext;
    expect(text).toBe(
      `${BAND_SENTENCES.high} ${DRIVER_SENTENCES.high_failure_rate} ${DRIVER_SENTENCES.geo_entropy_increase}`,
    );
  });

  it('shares one context object per distinct assessment and keeps working past its cache bound', () => {
    const contextOf = createTierContexts(300, 4);
    expect(contextOf(risk())).toBe(contextOf(risk()));
    const ratios = Array.from({ length: 50 }, (_, i) => 2 + i / 10);
    const contexts = ratios.map((r) => contextOf(risk({ trajectoryRatio: r })));
    expect(contexts[49]!.riskTrajectory).toContain('~6.9×');
  });

  it('leaves tier undefined on envelopes that were not scored', async () => {
    const b = batchOf(inBucket(0, 3));
    await lastValueFrom(of(b).pipe(enrichTier({ tier: 'tier2', windowSec: 300 })));
    expect(b.entries.every((e) => e.tier === undefined)).toBe(true);
  });

  it('propagates errors and completion', async () => {
    const boom = new Error('upstream');
    await expect(
      lastValueFrom(
        concat(
          of(batchOf([])),
          throwError(() => boom),
        ).pipe(enrichTier({ tier: 'tier2', windowSec: 300 })),
      ),
    ).rejects.toBe(boom);
    await expect(
      lastValueFrom(EMPTY.pipe(enrichTier({ tier: 'tier1', windowSec: 300 })), { defaultValue: 'done' }),
    ).resolves.toBe('done');
    const seen: unknown[] = [];
    const input = new Subject<Batch>();
    input.pipe(enrichTier({ tier: 'tier2', windowSec: 300 })).subscribe({ complete: () => seen.push('complete') });
    input.complete();
    expect(seen).toEqual(['complete']);
  });

  it('emits the same batch objects, in order', async () => {
    const op = enrichTier({ tier: 'tier2', windowSec: 60 });
    const batches = [batchOf([]), batchOf([])];
    const out = await lastValueFrom(from(batches).pipe(op, toArray()));
    expect(out).toEqual(batches);
    expect(out[0]).toBe(batches[0]);
  });

  it('rejects an unknown tier', () => {
    expect(() => enrichTier({ tier: 'tier3' as 'tier1', windowSec: 300 })).toThrow(RangeError);
  });
});

describe('enrichTier: a segment in focus', () => {
  it('names the segment after the driver sentences, under the same guardrails', () => {
    const contextOf = createTierContexts(300);
    const focused: RiskAssessment = {
      score: 0.65,
      band: 'high',
      drivers: ['geo_failure_concentration'],
      trajectory: 'stable',
      trajectoryRatio: 1,
      focus: { geo_bucket: 'BR' },
    };
    const text = contextOf(focused).playbookContext;
    expect(text).toContain(DRIVER_SENTENCES.geo_failure_concentration);
    expect(text.endsWith(FOCUS_TEMPLATE.replace('{segment}', 'geography BR'))).toBe(true);
    expect(contextOf(focused)).toBe(contextOf(focused));
    expect(contextOf({ ...focused, focus: undefined }).playbookContext).not.toContain('geography BR');
  });
});
