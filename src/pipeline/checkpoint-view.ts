/**
 * `/v1/risk/processors` on a partitioned buffer: every processor's state as its owner last
 * committed it (the partitions' checkpoints), read again every `everyMs` (1 s), so every node
 * (ingest-only ones too) answers alike, at most about a second behind the owners. The newest
 * event time among them is the cluster's watermark, on which a silent processor's incident
 * cools down (`trackIncidents`' `clock`).
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventBuffer } from '../buffer/buffer.js';
import type { ProcessorRiskSnapshot } from '../operators/risk/risk-snapshot.js';
import { RiskScorer } from '../operators/risk/risk-scorer.js';
import { parseCheckpoint } from './partition-state.js';

export interface CheckpointView {
  snapshot(): readonly ProcessorRiskSnapshot[] | undefined;
  /** The newest event time committed over every partition (epoch ms); -1 before any. */
  watermark(): number;
  stop(): void;
}

export function startCheckpointView(
  buffer: EventBuffer,
  risk: Config['risk'],
  o: { logger: Logger; everyMs?: number },
): CheckpointView {
  let latest: ProcessorRiskSnapshot[] | undefined;
  let watermark = -1;
  let busy = false;
  const refresh = async (): Promise<void> => {
    const scorer = new RiskScorer({
      model: risk.model,
      thresholds: risk.thresholds,
      windowSec: risk.windowSec,
      allowedLatenessSec: risk.allowedLatenessSec,
    });
    for (const [processor, text] of await buffer.checkpoints()) {
      const c = parseCheckpoint(text);
      if (c?.window !== undefined && c.window !== null) scorer.window.importProcessor(processor, c.window);
    }
    latest = scorer.snapshot();
    for (const s of latest) if (s.watermarkMs > watermark) watermark = s.watermarkMs;
  };
  const timer = setInterval(() => {
    if (busy || !buffer.available) return;
    busy = true;
    refresh()
      .catch((err: unknown) => o.logger.debug({ err: (err as Error).message }, 'checkpoint_view_failed'))
      .finally(() => {
        busy = false;
      });
  }, o.everyMs ?? 1000);
  timer.unref();
  void refresh().catch(() => undefined);
  return {
    snapshot: () => latest,
    watermark: () => watermark,
    stop: () => clearInterval(timer),
  };
}
