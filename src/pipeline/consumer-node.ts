/**
 * A node's consumer side, assembled for the composition root: the consumer with its risk
 * stages, and where `/v1/risk/processors` reads from.
 *
 * - Partitions with leases (`buffer.owned`): each consumer restores and checkpoints the
 *   partitions it owns (`partition-state.ts`), with no warm-up, and every node (ingest-only
 *   ones too) answers `/v1/risk/processors` from the owners' checkpoints
 *   (`checkpoint-view.ts`), alike.
 * - Otherwise: the consumer rebuilds its window from the stream's recent entries (warm-up), and
 *   answers from its own scorer.
 * - Risk scoring off: events pass straight to the sinks, and there is no window to rebuild.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import { forgetProcessorScore, riskRecorder } from './risk-batch-metrics.js';
import type { CommitRecord, EventBuffer } from '../buffer/buffer.js';
import type { ProcessorRiskSnapshot } from '../operators/risk/risk-snapshot.js';
import type { RiskScorer } from '../operators/risk/risk-scorer.js';
import type { IncidentBatch } from '../operators/track-incidents.js';
import type { Exporter } from '../sinks/exporter.js';
import { warmupBatches } from '../sources/warmup-batches.js';
import { startCheckpointView } from './checkpoint-view.js';
import { startConsumer, type RunningConsumer } from './consumer.js';
import { createPartitionState } from './partition-state.js';
import { riskStages, type RiskStagesOptions } from './risk-stages.js';

export interface ConsumerNodeDeps {
  readonly buffer: EventBuffer;
  /** No exporter: this node runs no consumer. */
  readonly exporter: Exporter | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Whether this node runs the consumer (its role). */
  readonly enabled: boolean;
  /** Incidents to track, and what to do once a batch is exported (the pilot's). */
  readonly incidents?: RiskStagesOptions['incidents'];
  readonly afterExport?: (staged: IncidentBatch) => Promise<void>;
  /** A batch's warnings as records (the pilot's), written by each partition's commit with its acks. */
  readonly records?: (transitions: IncidentBatch['transitions']) => ReadonlyMap<string, readonly CommitRecord[]>;
}

export interface ConsumerNode {
  /** The running consumer; undefined on a node that runs none. */
  readonly consumer: RunningConsumer | undefined;
  /** What `/v1/risk/processors` shows: every processor's risk state, when there is one yet. */
  snapshot(): readonly ProcessorRiskSnapshot[] | undefined;
  /** Finish the batch in flight (export + ack), then stop reading and refreshing. */
  stop(): Promise<void>;
}

export async function createConsumerNode(config: Config, d: ConsumerNodeDeps): Promise<ConsumerNode> {
  const { buffer, exporter, metrics, logger } = d;
  let scorer: RiskScorer | undefined;
  const partitionState = buffer.owned ? createPartitionState(forgetProcessorScore(metrics)) : undefined;
  const records = partitionState === undefined ? undefined : d.records;
  // Staged before the rest of afterExport and the ack: the commit that acknowledges the batch
  // writes them, so a crash leaves both or neither, and a fenced owner writes neither.
  const afterExport =
    records === undefined || partitionState === undefined
      ? d.afterExport
      : async (staged: IncidentBatch): Promise<void> => {
          if (staged.transitions.length > 0) partitionState.stage(records(staged.transitions));
          await d.afterExport?.(staged);
        };
  const checkpointView =
    buffer.owned && config.risk.enabled ? startCheckpointView(buffer, config.risk, { logger }) : undefined;
  const consumer =
    exporter === undefined || !d.enabled
      ? undefined
      : await startConsumer(config, {
          buffer,
          exporter,
          metrics,
          logger,
          afterExport,
          ownership: partitionState?.hooks,
          ...(config.risk.enabled && {
            stages: riskStages({
              risk: config.risk,
              incidents: d.incidents,
              onScorer: (s) => {
                scorer = s;
                partitionState?.setScorer(s);
              },
              onBook: (b) => partitionState?.setBook(b),
              clock: checkpointView && (() => checkpointView.watermark()),
              onScored: riskRecorder(metrics),
            }),
            warmup: () =>
              buffer.owned
                ? Promise.resolve([])
                : warmupBatches(buffer, {
                    windowSec: config.risk.windowSec,
                    allowedLatenessSec: config.risk.allowedLatenessSec,
                    now: Date.now(),
                  }),
          }),
        });
  return {
    consumer,
    snapshot: () => (checkpointView !== undefined ? checkpointView.snapshot() : scorer?.snapshot()),
    async stop() {
      await consumer?.stop();
      checkpointView?.stop();
    },
  };
}
