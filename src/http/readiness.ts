/**
 * What `/health` and `/ready` say, decided in one place.
 *
 * - `/health` (liveness): the process is alive and its buffer answers a ping within 500 ms.
 * - `/ready` (readiness, with detail and a `reason` when not ready): the buffer is connected
 *   and takes a small write within 1 s (Redis out of memory, read-only, refusing the password
 *   or stalled all fail it, with Redis's own words), the consumer (when this node runs one) is
 *   running and not stuck retrying a stage for longer than the export staleness bound, and
 *   every export destination is healthy: not failing for longer than PAYFLUX_EXPORT_STALE_SEC
 *   and with no write pending for longer than the exporter's stall bound (after_export mode; in
 *   before_export mode a failing destination is shown but skipped, so it does not make the node
 *   unready). The write probe runs at most once a second, whatever the probe rate.
 */
import type { Config } from '../config.js';
import type { EventBuffer } from '../buffer/buffer.js';
import type { Maintenance } from '../buffer/maintenance.js';
import type { RunningConsumer } from '../pipeline/consumer.js';
import type { ExportHealth, Exporter } from '../sinks/exporter.js';
import { TIER_LABELS } from '../risk-terms.js';
import type { Health, ReadyReport } from './ops-routes.js';

const PING_TIMEOUT_MS = 500;
const WRITE_PROBE_TIMEOUT_MS = 1000;
const WRITE_PROBE_EVERY_MS = 1000;

type WriteProbe = { readonly ok: true } | { readonly ok: false; readonly error: string };

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
  let lastProbe: { readonly atMs: number; readonly result: Promise<WriteProbe> } | undefined;
  const writeProbe = (): Promise<WriteProbe> => {
    const probeWrite = buffer.probeWrite?.bind(buffer);
    if (probeWrite === undefined) return Promise.resolve({ ok: true });
    const t = now();
    if (lastProbe !== undefined && t - lastProbe.atMs < WRITE_PROBE_EVERY_MS) return lastProbe.result;
    const result = withTimeout(probeWrite(), WRITE_PROBE_TIMEOUT_MS).then(
      (): WriteProbe => ({ ok: true }),
      (err: unknown): WriteProbe => ({ ok: false, error: (err as Error).message }),
    );
    lastProbe = { atMs: t, result };
    return result;
  };
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
      const write = bufferUp ? await writeProbe() : undefined;
      // A stage retried for longer than the export staleness bound (the warnings store, the
      // ack) stalls export as surely as a failing destination does.
      const stall = consumer?.stalled();
      const stalled = stall !== undefined && now() - stall.sinceMs > config.export.staleSec * 1000;
      // In before_export (best-effort) mode a failing destination holds nothing back: shown, not gating.
      const exportHolds = config.consumer.ackMode === 'after_export' && exportState?.healthy === false;
      const consumerDown = consumer !== undefined && !consumer.running();
      const reason = !bufferUp
        ? `the buffer is not connected${buffer.lastError === undefined ? '' : ` (${buffer.lastError})`}`
        : write?.ok === false
          ? `Redis refuses a write: ${write.error}`
          : consumerDown
            ? 'the consumer is not running'
            : exportHolds
              ? `export destination unhealthy: ${unhealthyDestinations(exportState)}`
              : stalled
                ? `the consumer keeps retrying ${stall.stage}: ${stall.error}`
                : undefined;
      return {
        ready: reason === undefined,
        ...(reason !== undefined && { reason }),
        role: config.role,
        tier: { name: config.risk.tier, label: TIER_LABELS[config.risk.tier] },
        buffer: buffer.kind,
        redis:
          buffer.kind === 'redis'
            ? {
                connected: bufferUp,
                writable: write?.ok === true,
                ...(write?.ok === false && { error: write.error }),
                ...(!bufferUp && buffer.lastError !== undefined && { error: buffer.lastError }),
              }
            : undefined,
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

/** `stdout (write pending for 12 s)`, `file (ENOSPC: …)`: what makes export unhealthy. */
function unhealthyDestinations(h: ExportHealth | undefined): string {
  const out: string[] = [];
  for (const [name, dh] of Object.entries(h?.destinations ?? {})) {
    if (dh.healthy) continue;
    const why =
      dh.write_pending_since !== null
        ? `a write pending since ${dh.write_pending_since}`
        : (dh.last_error ?? 'failing');
    out.push(`${name} (${why})`);
  }
  return out.join(', ');
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
