/**
 * What `/health` and `/ready` say, decided in one place.
 *
 * - `/health` (liveness): the process is alive and its buffer answers a ping within 500 ms.
 * - `/ready` (readiness, with detail): the buffer is connected, the consumer (when this node
 *   runs one) is running and not stuck retrying a stage for longer than the export staleness
 *   bound, and every export destination is healthy (after_export mode; in before_export mode
 *   a failing destination is shown but skipped, so it does not make the node unready).
 */
import type { Config } from '../config.js';
import type { EventBuffer } from '../buffer/buffer.js';
import type { Maintenance } from '../buffer/maintenance.js';
import type { RunningConsumer } from '../pipeline/consumer.js';
import type { Exporter } from '../sinks/exporter.js';
import { TIER_LABELS } from '../risk-terms.js';
import type { Health, ReadyReport } from './ops-routes.js';

const PING_TIMEOUT_MS = 500;

export interface ReadinessDeps {
  readonly config: Config;
  readonly buffer: EventBuffer;
  readonly ingest: { readonly enabled: boolean; readonly pending: () => number };
  readonly consumer: RunningConsumer | undefined;
  readonly exporter: Exporter | undefined;
  readonly maintenance: Maintenance;
  readonly now?: () => number;
}

export interface Readiness {
  health(): Promise<Health>;
  ready(): Promise<ReadyReport>;
}

export function createReadiness(d: ReadinessDeps): Readiness {
  const { config, buffer, consumer, exporter, maintenance } = d;
  const now = d.now ?? Date.now;
  return {
    async health() {
      try {
        await withTimeout(buffer.ping(), PING_TIMEOUT_MS);
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: `buffer unavailable: ${(err as Error).message}` };
      }
    },

    async ready() {
      const stats = maintenance.lastStats();
      const exportState = exporter?.health();
      const bufferUp = buffer.available;
      // A stage retried for longer than the export staleness bound (the warnings store, the
      // ack) stalls export as surely as a failing destination does.
      const stall = consumer?.stalled();
      const stalled = stall !== undefined && now() - stall.sinceMs > config.export.staleSec * 1000;
      // In before_export (best-effort) mode a failing destination holds nothing back: shown, not gating.
      const exportHolds = config.consumer.ackMode === 'after_export' && exportState?.healthy === false;
      const ready = bufferUp && (consumer === undefined || consumer.running()) && !exportHolds && !stalled;
      return {
        ready,
        role: config.role,
        tier: { name: config.risk.tier, label: TIER_LABELS[config.risk.tier] },
        buffer: buffer.kind,
        redis: buffer.kind === 'redis' ? { connected: bufferUp } : undefined,
        ingest: { enabled: d.ingest.enabled, pending: d.ingest.pending() },
        consumer:
          consumer === undefined
            ? { enabled: false }
            : {
                enabled: true,
                name: consumer.name,
                running: consumer.running(),
                ack_mode: config.consumer.ackMode,
                retrying:
                  stall === undefined
                    ? undefined
                    : { stage: stall.stage, since: new Date(stall.sinceMs).toISOString(), error: stall.error },
              },
        lag: stats?.lag,
        pending: stats?.pending,
        stream_length: stats?.length,
        dlq_depth: stats?.dlqDepth,
        export: exportState,
      };
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
