import { describe, expect, it } from 'vitest';
import { reducePoints } from '../../../src/pilot/live-state.js';
import type { RiskPoint } from '../../../src/pilot/risk-history.js';

const point = (t: number, maxScore: number, over: Partial<RiskPoint> = {}): RiskPoint => ({
  t,
  events: 10,
  failures: 1,
  maxScore,
  maxBand: maxScore >= 0.8 ? 'critical' : maxScore >= 0.6 ? 'high' : maxScore >= 0.3 ? 'elevated' : 'low',
  score: maxScore,
  band: 'low',
  trajectory: 'stable',
  trajectoryRatio: 1,
  drivers: ['nominal_behavior'],
  ...over,
});

describe('reducePoints', () => {
  it('merges the 10 s slots of a step: the highest score and its band stay, counts add up, the last state wins', () => {
    const points = [
      point(0, 0.1),
      point(10_000, 0.85, { failures: 9 }),
      point(20_000, 0.4, { score: 0.35, band: 'elevated', drivers: ['high_failure_rate'] }),
      point(60_000, 0.05),
    ];
    expect(reducePoints(points, 60_000)).toEqual([
      {
        t: 0,
        max_score: 0.85,
        max_band: 'critical',
        score: 0.35,
        band: 'elevated',
        events: 30,
        failures: 11,
        drivers: ['high_failure_rate'],
        trajectory: 'stable',
      },
      expect.objectContaining({ t: 60_000, max_score: 0.05, max_band: 'low', events: 10 }),
    ]);
    expect(reducePoints(points, 10_000)).toHaveLength(4);
    expect(reducePoints([], 60_000)).toEqual([]);
  });
});
