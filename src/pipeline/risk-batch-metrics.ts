import type { Metrics } from '../metrics.js';
import type { RiskBatchReport } from '../operators/risk/risk-scorer.js';
import type { Batch } from './types.js';

/**
 * Risk metrics, once per batch: labelled by processor and band, both small closed sets. The
 * window rebuilt at start is history, not traffic now: it moves no counter and no timestamp.
 */
export function riskRecorder(metrics: Metrics): (report: RiskBatchReport, batch: Batch) => void {
  // The snapshot carries running totals; the counter wants increments.
  const lateSeen = new Map<string, number>();
  return (report, batch) => {
    const live = batch.warmup !== true;
    for (const p of report.processors) {
      metrics.riskScoreLast.set({ processor: p.processor }, p.score);
      const seen = lateSeen.get(p.processor) ?? 0;
      if (live && p.totals.tooLate > seen)
        metrics.riskLateEvents.inc({ processor: p.processor }, p.totals.tooLate - seen);
      lateSeen.set(p.processor, p.totals.tooLate);
    }
    if (!live) return;
    // Wall-clock time, not event time: producers' clocks and backlogs must not silence alerts.
    const nowSec = Date.now() / 1000;
    for (const b of report.bands) {
      metrics.riskEvents.inc({ processor: b.processor, band: b.band }, b.count);
      metrics.processorLastEvent.set({ processor: b.processor }, nowSec);
    }
  };
}

/**
 * For a partition this consumer gave up: its processor's last score is the new owner's to report
 * now. Several consumer processes of a node report it once (the highest, `metrics.ts`), so a
 * value left behind would hide the owner's.
 */
export function forgetProcessorScore(metrics: Metrics): (processor: string) => void {
  return (processor) => metrics.riskScoreLast.remove({ processor });
}
