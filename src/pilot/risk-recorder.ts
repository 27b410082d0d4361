/**
 * The consumer's side of the risk history: after a batch is exported, one write per processor in
 * it. Best effort: the history feeds a screen, so a failed write is logged and counted
 * (`payflux_risk_history_writes_total{result="error"}`) and never holds the batch's ack.
 */
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Batch } from '../pipeline/types.js';
import type { RiskHistory } from './risk-history.js';
import { riskSamples } from './risk-samples.js';

export interface RiskRecorderOptions {
  readonly history: RiskHistory;
  readonly registry: Registry;
  readonly log: Logger;
}

/** Returns `record(batch)`: resolves once every processor's write settled; never rejects. */
export function createRiskRecorder(o: RiskRecorderOptions): (batch: Batch) => Promise<void> {
  const writes = new Counter({
    name: 'payflux_risk_history_writes_total',
    help: 'Per-processor risk history writes (one per processor per batch), by result.',
    labelNames: ['result'],
    registers: [o.registry],
  });
  // Both series from the start: an error series born with its first increment hides that jump from rate().
  writes.inc({ result: 'ok' }, 0);
  writes.inc({ result: 'error' }, 0);
  let failing = false;
  return async (batch) => {
    const samples = riskSamples(batch);
    if (samples.length === 0) return;
    // Concurrent: a batch usually holds one processor, and each write is O(1) on its own slot.
    const results = await Promise.allSettled(samples.map((s) => o.history.record(s)));
    let errors = 0;
    for (const r of results) {
      if (r.status === 'fulfilled') continue;
      errors++;
      // One line per failing spell, not per batch.
      if (!failing) o.log.warn({ err: (r.reason as Error).message }, 'risk_history_write_failed');
      failing = true;
    }
    if (errors === 0 && failing) {
      failing = false;
      o.log.info('risk_history_write_recovered');
    }
    writes.inc({ result: 'ok' }, results.length - errors);
    if (errors > 0) writes.inc({ result: 'error' }, errors);
  };
}
