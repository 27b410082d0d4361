import { describe, expect, it } from 'vitest';
import { RiskScorer } from '../../../../src/operators/risk/risk-scorer.js';
import type { Envelope } from '../../../../src/pipeline/types.js';
import { T0, envelope, inBucket } from '../fixtures.js';

function classic(): RiskScorer {
  return new RiskScorer({ model: 'classic', windowSec: 300, allowedLatenessSec: 30, thresholds: [0.3, 0.6, 0.8] });
}

function scoreAll(s: RiskScorer, envs: Envelope[]) {
  s.scoreAll(envs);
  return envs.at(-1)!.risk!;
}

describe('classic model: the reference vectors', () => {
  it('says insufficient_data with score 0 for a window of 4 events', () => {
    const a = scoreAll(classic(), inBucket(0, 4, { category: 'card_declined' }));
    expect(a).toEqual({
      score: 0,
      band: 'low',
      drivers: ['insufficient_data'],
      trajectory: 'stable',
      trajectoryRatio: 1,
    });
  });

  it('scores 0.15 low traffic_volatility for a current bucket of 5 over 4 buckets of 10 without failures', () => {
    const envs = [0, 1, 2, 3].flatMap((b) => inBucket(b, 10));
    envs.push(...inBucket(4, 5));
    const a = scoreAll(classic(), envs);
    expect(a.score).toBe(0.15);
    expect(a.band).toBe('low');
    expect(a.drivers).toEqual(['traffic_volatility']);
  });

  it('scores 0.29 low traffic_volatility, trajectory ×5.0 accelerating, for the failing current bucket', () => {
    // The four other buckets sit before an empty one, so the last 10 s are exactly the current
    // bucket, as in the vector; the adjacent case is checked below.
    const envs = [0, 1, 2, 3].flatMap((b) => [...inBucket(b, 2, { category: 'card_declined' }), ...inBucket(b, 18)]);
    envs.push(...current(5));
    const a = scoreAll(classic(), envs);
    expect(a).toEqual({
      score: 0.29,
      band: 'low',
      drivers: ['traffic_volatility'],
      trajectory: 'accelerating',
      trajectoryRatio: 5,
    });
  });

  it('keeps ×5.0 with adjacent buckets when the watermark closes the current bucket', () => {
    const envs = [0, 1, 2, 3].flatMap((b) => [...inBucket(b, 2, { category: 'card_declined' }), ...inBucket(b, 18)]);
    envs.push(...current(4), envelope({ at: T0 + 4 * 10_000 + 9_999, category: 'card_declined' }));
    const s = classic();
    s.scoreAll(envs);
    // 21 events now (11 failures); the last 10 s are the current bucket alone.
    expect(envs.at(-1)!.risk!.trajectoryRatio).toBeCloseTo(11 / 21 / 0.1, 1);
  });
});

describe('classic model: drivers and components', () => {
  it('names every driver above its threshold, in contractual order', () => {
    const envs = inBucket(0, 20, { category: 'authentication_required', retries: 3, geo: 'US' });
    envs.push(...inBucket(0, 20, { category: 'gateway_timeout', retries: 3 }));
    for (const g of ['CA', 'GB', 'DE', 'FR', 'ES', 'IT']) envs.push(envelope({ at: T0 + 9_500, geo: g, retries: 3 }));
    const s = classic();
    s.scoreAll(envs);
    const [snap] = s.snapshot();
    expect(snap!.drivers).toEqual(['high_failure_rate', 'retry_pressure_spike', 'geo_entropy_increase']);
    expect(snap!.components.retry_pressure_spike).toBe(1);
    expect(snap!.components.timeout_clustering).toBe(0.5);
    expect(snap!.components.auth_failure_cluster).toBe(0.5);
  });

  it('says nominal_behavior when nothing crosses a threshold', () => {
    const envs = [0, 1, 2, 3, 4, 5].flatMap((b) => inBucket(b, 10));
    const a = scoreAll(classic(), envs);
    // Six buckets of 10 against 29 slots: the spike term still reads the window filling up.
    expect(a.drivers).toEqual(['traffic_volatility']);
    const full = Array.from({ length: 30 }, (_, b) => inBucket(b, 10)).flat();
    full.push(...inBucket(30, 2));
    expect(scoreAll(classic(), full).drivers).toEqual(['nominal_behavior']);
  });
});

function current(bucket: number): Envelope[] {
  const out: Envelope[] = [];
  const at = (i: number) => T0 + bucket * 10_000 + i * 400;
  for (let i = 0; i < 20; i++) {
    out.push(
      envelope({
        at: at(i),
        category: i < 5 ? 'gateway_timeout' : i < 10 ? 'card_declined' : undefined,
        retries: 2,
        geo: i % 2 === 0 ? 'US' : 'CA',
      }),
    );
  }
  return out;
}
