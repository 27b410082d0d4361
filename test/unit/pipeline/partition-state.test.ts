import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics.js';
import { createPartitionState } from '../../../src/pipeline/partition-state.js';
import { forgetProcessorScore } from '../../../src/pipeline/risk-batch-metrics.js';

describe('partition state', () => {
  it('drops the last score of a processor whose partition this consumer gave up', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const state = createPartitionState(forgetProcessorScore(metrics));
    metrics.riskScoreLast.set({ processor: 'stripe' }, 0.91);
    metrics.riskScoreLast.set({ processor: 'adyen' }, 0.12);

    state.hooks.forget('stripe');

    const text = await metrics.registry.metrics();
    expect(text).toContain('payflux_processor_risk_score_last{processor="adyen"} 0.12');
    expect(text).not.toContain('processor="stripe"');
  });
});
