/**
 * The NDJSON exporter: stdout, a file, or both.
 *
 * - One write per batch per destination: the batch's lines as one buffer of UTF-8, encoded
 *   once for every destination and reused for the next batch once they all settled.
 * - `both`: a batch that reached one destination and failed on the other is retried on the
 *   failed one only, so the side that succeeded gets no duplicate lines.
 * - PAYFLUX_ACK_MODE=before_export is best effort: every destination is written at once and
 *   once; a failing one is counted (`payflux_export_dropped_events_total`, by the batch's
 *   events) and reported, and `write` resolves, so it never holds the others or the consumer.
 *   A slow one still paces the consumer: that is backpressure, and Redis keeps the backlog.
 * - The file is opened in append mode and reopened on SIGHUP (logrotate moves it away, we
 *   create it anew) and after any error, so a destination that recovers is picked up.
 * - Health per destination: last success and error; unhealthy once a destination has been
 *   failing for longer than PAYFLUX_EXPORT_STALE_SEC, or has had a write pending for longer
 *   than STALLED_WRITE_MS (a reader that stopped reading: the write never fails, it hangs).
 * - Pilot outcome annotations go to the same destinations (`annotate`), so a shipper tailing
 *   the file sees them as well as one reading stdout.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ExportMode } from '../config-types.js';
import { initExportSeries, type Metrics } from '../metrics.js';
import type { Batch } from '../pipeline/types.js';
import {
  createFileDestination,
  createStreamDestination,
  type Destination,
  type DestinationName,
} from './destinations.js';
import { createLineEncoder } from './export-line.js';

export interface DestinationHealth {
  healthy: boolean;
  last_success_at: string | null;
  last_error_at: string | null;
  last_error: string | null;
  failing_since: string | null;
  /** When the oldest write still pending began; null when none is. */
  write_pending_since: string | null;
  lines_written: number;
}

export interface ExportHealth {
  readonly enabled: true;
  readonly export_mode: ExportMode;
  readonly healthy: boolean;
  readonly destinations: Partial<Record<DestinationName, DestinationHealth>>;
}

export interface Exporter {
  /**
   * Write the batch to every destination not yet written for it; throws if any failed (in
   * before_export mode: counts what a failing destination missed and resolves).
   */
  write(batch: Batch, processedAt: string): Promise<void>;
  /**
   * Write one line that is not an event (a pilot outcome annotation) to every destination, in
   * order with the batches around it. Best effort: a destination's failure is counted and
   * reported like a batch's, never thrown, and not retried.
   */
  annotate(line: string): Promise<void>;
  reopen(): Promise<void>;
  health(): ExportHealth;
  close(): Promise<void>;
}

type DestinationState = DestinationHealth & {
  failingSinceMs: number | undefined;
  /** Writes in flight and when the oldest began. */
  pending: number;
  pendingSinceMs: number | undefined;
};

/**
 * A write pending this long makes its destination unhealthy: a healthy stdout pipe or file takes
 * a batch in milliseconds, and a shipper's backpressure pauses, not stops.
 */
export const STALLED_WRITE_MS = 5000;

/** How often a destination that could not be opened is tried again while nothing is written. */
const PROBE_INTERVAL_MS = 2000;

export interface ExporterDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly stdout: NodeJS.WritableStream;
  readonly consumerName?: string;
  readonly now?: () => number;
}

export async function createExporter(config: Config, d: ExporterDeps): Promise<Exporter> {
  const now = d.now ?? Date.now;
  const mode = config.export.mode;
  const destinations: Destination[] = [];
  if (mode !== 'file') destinations.push(createStreamDestination('stdout', d.stdout));
  if (mode !== 'stdout' && config.export.file !== undefined)
    destinations.push(await createFileDestination(config.export.file, d.logger));
  const encode = createLineEncoder(d.consumerName ?? config.consumer.name);
  const state = new Map<DestinationName, DestinationState>();
  for (const dest of destinations) {
    initExportSeries(d.metrics, dest.name);
    state.set(dest.name, {
      healthy: true,
      last_success_at: null,
      last_error_at: null,
      last_error: null,
      failing_since: null,
      write_pending_since: null,
      lines_written: 0,
      failingSinceMs: undefined,
      pending: 0,
      pendingSinceMs: undefined,
    });
  }
  // Which destinations already hold a batch: a retry skips them. Weak, so batches are not kept.
  const written = new WeakMap<Batch, Set<DestinationName>>();
  const staleMs = config.export.staleSec * 1000;

  const failed = (name: DestinationName, s: DestinationState, e: NodeJS.ErrnoException, t: number): void => {
    const reason = e.code ?? 'write_error';
    d.metrics.exportErrors.inc({ destination: name, reason });
    if (s.failingSinceMs === undefined) {
      s.failingSinceMs = t;
      s.failing_since = new Date(t).toISOString();
      d.logger.error({ destination: name, reason, err: e.message }, 'export_destination_failing');
    }
    s.last_error_at = new Date(t).toISOString();
    s.last_error = `${reason}: ${e.message}`;
  };

  // A destination that could not be opened is retried here too, not only by the next batch's
  // write: with no traffic, /export/health would otherwise report a file that cannot be opened
  // as healthy, and one whose directory has appeared since as failing, for as long as no event
  // arrives.
  const probe = async (): Promise<void> => {
    for (const dest of destinations) {
      const s = state.get(dest.name);
      if (s === undefined) continue;
      try {
        if ((await dest.probe()) && s.failingSinceMs !== undefined) {
          s.failingSinceMs = undefined;
          s.failing_since = null;
        }
      } catch (err) {
        failed(dest.name, s, err as NodeJS.ErrnoException, now());
      }
    }
  };
  await probe();
  const prober = setInterval(() => void probe(), PROBE_INTERVAL_MS);
  prober.unref();

  /** `dest.write`, with the time the oldest pending write began kept for health. */
  const timedWrite = async (dest: Destination, s: DestinationState, chunk: Buffer): Promise<void> => {
    if (s.pending++ === 0) s.pendingSinceMs = now();
    try {
      await dest.write(chunk);
    } finally {
      if (--s.pending === 0) s.pendingSinceMs = undefined;
    }
  };

  const bestEffort = config.consumer.ackMode === 'before_export';
  const succeeded = (name: DestinationName, s: DestinationState, events: number, t: number): void => {
    s.last_success_at = new Date(t).toISOString();
    s.failing_since = null;
    s.failingSinceMs = undefined;
    s.lines_written += events;
    d.metrics.eventsExported.inc({ destination: name }, events);
    d.metrics.exportLastSuccess.set({ destination: name }, t / 1000);
  };

  const writeOnce = async (batch: Batch, processedAt: string): Promise<void> => {
    const lines = encode(batch.entries, processedAt);
    const events = batch.entries.length;
    await Promise.all(
      destinations.map(async (dest) => {
        const s = state.get(dest.name);
        if (s === undefined) return;
        try {
          await timedWrite(dest, s, lines);
          succeeded(dest.name, s, events, now());
        } catch (err) {
          failed(dest.name, s, err as NodeJS.ErrnoException, now());
          d.metrics.exportDropped.inc({ destination: dest.name }, events);
        }
      }),
    );
  };

  return {
    async write(batch, processedAt) {
      if (batch.entries.length === 0) return;
      if (bestEffort) return writeOnce(batch, processedAt);
      let done = written.get(batch);
      if (done === undefined) {
        done = new Set();
        written.set(batch, done);
      }
      const lines = encode(batch.entries, processedAt);
      let firstError: Error | undefined;
      for (const dest of destinations) {
        if (done.has(dest.name)) continue;
        const s = state.get(dest.name);
        if (s === undefined) continue;
        const t = now();
        try {
          await timedWrite(dest, s, lines);
          done.add(dest.name);
          succeeded(dest.name, s, batch.entries.length, t);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          failed(dest.name, s, e, t);
          firstError ??= e;
        }
      }
      if (firstError !== undefined) throw firstError;
    },

    async annotate(line) {
      const chunk = Buffer.from(line);
      await Promise.all(
        destinations.map(async (dest) => {
          const s = state.get(dest.name);
          if (s === undefined) return;
          try {
            await timedWrite(dest, s, chunk);
          } catch (err) {
            failed(dest.name, s, err as NodeJS.ErrnoException, now());
          }
        }),
      );
    },

    async reopen() {
      for (const dest of destinations) await dest.reopen();
    },

    health(): ExportHealth {
      const t = now();
      const out: Partial<Record<DestinationName, DestinationHealth>> = {};
      let healthy = true;
      for (const [name, s] of state) {
        const stalledWrite = s.pendingSinceMs !== undefined && t - s.pendingSinceMs > STALLED_WRITE_MS;
        s.healthy = (s.failingSinceMs === undefined || t - s.failingSinceMs <= staleMs) && !stalledWrite;
        healthy &&= s.healthy;
        out[name] = {
          healthy: s.healthy,
          last_success_at: s.last_success_at,
          last_error_at: s.last_error_at,
          last_error: s.last_error,
          failing_since: s.failing_since,
          write_pending_since: s.pendingSinceMs === undefined ? null : new Date(s.pendingSinceMs).toISOString(),
          lines_written: s.lines_written,
        };
      }
      return { enabled: true, export_mode: mode, healthy, destinations: out };
    },

    async close() {
      clearInterval(prober);
      for (const dest of destinations) await dest.close();
    },
  };
}
