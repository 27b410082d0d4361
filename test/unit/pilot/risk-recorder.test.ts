import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { toPaymentEvent } from '../../../src/events/payment-event.js';
import type { Batch, Envelope } from '../../../src/pipeline/types.js';
import type { RiskHistory, RiskSample } from '../../../src/pilot/risk-history.js';
import { createRiskRecorder } from '../../../src/pilot/risk-recorder.js';

function env(processor: string, n: number): Envelope {
  return {
    id: `1-${n}`,
    event: toPaymentEvent({
      event_id: `evt_${processor}_${n}`,
      event_timestamp: new Date(1000).toISOString(),
      event_type: 'payment_succeeded',
      processor,
      merchant_id_hash: 'm',
    }),
    eventJson: undefined,
    eventTimeMs: 1000,
    ingestedAtMs: 1000,
    deliveries: 1,
    risk: { score: 0.1, band: 'low', drivers: ['nominal_behavior'], trajectory: 'stable', trajectoryRatio: 1 },
    tier: undefined,
  };
}

function fakeHistory(failFor: Set<string>): RiskHistory & { written: RiskSample[] } {
  const written: RiskSample[] = [];
  return {
    written,
    retentionMs: 86_400_000,
    async record(s) {
      if (failFor.has(s.processor)) throw new Error('READONLY');
      written.push(s);
    },
    read: async () => [],
    live: async () => undefined,
  };
}

describe('createRiskRecorder', () => {
  it('writes once per processor of a batch, and a failed write is counted, never thrown', async () => {
    const registry = new Registry();
    const failFor = new Set(['adyen']);
    const history = fakeHistory(failFor);
    const record = createRiskRecorder({ history, registry, log: pino({ level: 'silent' }) });
    const batch: Batch = { entries: [env('stripe', 1), env('adyen', 2), env('stripe', 3)], dead: [], ackIds: [] };
    await expect(record(batch)).resolves.toBeUndefined();
    expect(history.written.map((s) => [s.processor, s.slots[0]?.events])).toEqual([['stripe', 2]]);
    failFor.clear();
    await record(batch);
    await record({ entries: [], dead: [], ackIds: [] });
    const text = await registry.metrics();
    expect(text).toContain('payflux_risk_history_writes_total{result="ok"} 3');
    expect(text).toContain('payflux_risk_history_writes_total{result="error"} 1');
  });
});
