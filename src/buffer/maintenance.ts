/**
 * Background upkeep of the buffer, each on its own timer:
 * - retention: trim by length and age, never below the group's progress; report entries kept
 *   over the cap (metric + one log line per change of state, not per tick);
 * - stats: stream length, pending, lag, DLQ depth into gauges and `/ready`;
 * - consumer cleanup: remove consumers with nothing pending that have been idle for an hour.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { BufferStats, EventBuffer } from './buffer.js';
import type { Metrics } from '../metrics.js';

export interface Maintenance {
  lastStats(): BufferStats | undefined;
  stop(): void;
}

const STATS_INTERVAL_MS = 2000;
const CLEANUP_INTERVAL_MS = 60_000;
const CONSUMER_IDLE_MS = 3_600_000;

export function startMaintenance(
  config: Config,
  d: { buffer: EventBuffer; metrics: Metrics; logger: Logger; consumerName: string | undefined },
): Maintenance {
  const { buffer, metrics, logger } = d;
  let stats: BufferStats | undefined;
  let overCap = 0;
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, task: () => Promise<void>): void => {
    let busy = false;
    const t = setInterval(() => {
      if (busy || !buffer.available) return;
      busy = true;
      task()
        .catch((err: unknown) => logger.debug({ err: (err as Error).message }, 'maintenance_task_failed'))
        .finally(() => {
          busy = false;
        });
    }, ms);
    t.unref();
    timers.push(t);
  };

  const refreshStats = async (): Promise<void> => {
    stats = await buffer.stats();
    metrics.streamLength.set(stats.length);
    metrics.pendingMessages.set(stats.pending);
    metrics.consumerLag.set(stats.lag);
    metrics.dlqDepth.set(stats.dlqDepth);
  };

  // Trimming and cleanup are once-per-cluster work: the leader lease's holder does them.
  every(config.buffer.retentionIntervalMs, async () => {
    if (!buffer.isLeader()) return;
    const r = await buffer.trim(Date.now());
    if (r.trimmedByLength > 0) metrics.streamEvictions.inc({ reason: 'maxlen' }, r.trimmedByLength);
    if (r.trimmedByAge > 0) metrics.streamEvictions.inc({ reason: 'ttl' }, r.trimmedByAge);
    metrics.streamOverCap.set(r.overCap);
    if (r.overCap > 0 && overCap === 0) {
      logger.warn({ overCap: r.overCap, maxLen: config.buffer.maxLen }, 'stream_backlog_over_cap_not_trimmed');
    } else if (r.overCap === 0 && overCap > 0) logger.info('stream_backlog_back_under_cap');
    overCap = r.overCap;
  });
  every(STATS_INTERVAL_MS, refreshStats);
  {
    // Whichever node leads, consumer or not; a consumer keeps itself.
    const self = d.consumerName ?? '';
    every(CLEANUP_INTERVAL_MS, async () => {
      if (!buffer.isLeader()) return;
      const removed = await buffer.removeIdleConsumers(CONSUMER_IDLE_MS, self);
      if (removed.length > 0) logger.info({ removed }, 'idle_consumers_removed');
    });
  }
  void refreshStats().catch(() => undefined);

  return {
    lastStats: () => stats,
    stop() {
      for (const t of timers) clearInterval(t);
    },
  };
}
