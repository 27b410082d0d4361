/**
 * The consumer pipeline, composed:
 *
 *   demand$ ─▶ streamBatches ─▶ decodeEntries ─▶ …stages (risk, tier, incidents) ─▶ deliver ─┐
 *      ▲                                                                                     │
 *      └──────────────── next read only after export + ack of this batch ◀──────────────────┘
 *
 * One batch in flight: the unit of backpressure, ack, metrics and logs. `deliver` exports and
 * acknowledges according to PAYFLUX_ACK_MODE, retrying a failing sink or Redis with backoff
 * (reported through metrics and /export/health) until it succeeds or the consumer stops;
 * in `after_export` mode nothing is acknowledged before every destination has the batch.
 */
import { BehaviorSubject, concat, concatMap, from, map, tap, type Observable, type OperatorFunction } from 'rxjs';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventBuffer, OwnershipHooks, StreamReader } from '../buffer/buffer.js';
import { backoffMs, sleep } from '../backoff.js';
import type { Metrics } from '../metrics.js';
import { decodeBatch } from '../operators/decode-entries.js';
import type { Exporter } from '../sinks/exporter.js';
import { streamBatches } from '../sources/stream-batches.js';
import type { IncidentBatch } from '../operators/track-incidents.js';
import { readUnits, type ReadUnit } from './poison-policy.js';
import type { Batch } from './types.js';

export interface ConsumerDeps {
  readonly buffer: EventBuffer;
  readonly exporter: Exporter;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The stages between decode and the sinks (`riskStages`): risk, tier, incidents. */
  readonly stages?: OperatorFunction<Batch, IncidentBatch>;
  /**
   * Called once a batch is exported and before it is acknowledged (warnings store, alert
   * outbox), so that a crash in between replays the batch rather than losing its transitions.
   */
  readonly afterExport?: (staged: IncidentBatch) => Promise<void>;
  /** Entries to feed through the stages before the first read (window rebuild), never exported. */
  readonly warmup?: () => Promise<readonly Batch[]>;
  /** Own partitions (restore, checkpoint, fenced commits) through these, when the buffer has them. */
  readonly ownership?: OwnershipHooks;
}

/** A stage the consumer keeps retrying (a sink, the warnings store, Redis): what /ready shows. */
export interface ConsumerStall {
  readonly stage: string;
  /** When its first failure in a row happened (epoch ms). */
  readonly sinceMs: number;
  readonly error: string;
}

export interface RunningConsumer {
  readonly name: string;
  running(): boolean;
  /** The stage being retried, if one is: nothing is read, exported or acked meanwhile. */
  stalled(): ConsumerStall | undefined;
  /** Finish the batch in flight (export + ack), then stop reading. */
  stop(): Promise<void>;
}

export async function startConsumer(config: Config, d: ConsumerDeps): Promise<RunningConsumer> {
  const { metrics, logger, exporter } = d;
  const c = config.consumer;
  const reader: StreamReader = await d.buffer.openReader(c.name, d.ownership);
  const abort = new AbortController();
  const demand$ = new BehaviorSubject<void>(undefined);
  let stopping = false;
  let inFlight = false;
  // Nothing older than the raw-event retention can still be in the stream.
  const maxLatencyMs = config.buffer.rawEventTtlDays > 0 ? config.buffer.rawEventTtlDays * 86_400_000 : Infinity;
  let running = true;

  let stall: ConsumerStall | undefined;

  /** Retry `op` with backoff until it succeeds; false if the consumer stopped first. */
  const persist = async (stage: string, op: () => Promise<void>): Promise<boolean> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await op();
        if (stall?.stage === stage) stall = undefined;
        return true;
      } catch (err) {
        stall = { stage, sinceMs: stall?.stage === stage ? stall.sinceMs : Date.now(), error: (err as Error).message };
        metrics.consumerErrors.inc({ stage });
        if (attempt === 0) logger.warn({ stage, err: (err as Error).message }, 'consumer_stage_failed_retrying');
        if (abort.signal.aborted) return false;
        await sleep(backoffMs(attempt, 100, 5000), abort.signal);
        if (abort.signal.aborted) return false;
      }
    }
  };

  const deliver = async ({ batch, transitions }: IncidentBatch): Promise<void> => {
    if (batch.warmup === true) return;
    const processedAt = new Date().toISOString();
    // Dead letters once per batch: a retry after the ack alone failed must not write them again.
    let deadLettered = batch.dead.length === 0;
    const ack = async (): Promise<void> => {
      if (!deadLettered) {
        await reader.deadLetter(batch.dead);
        for (const dl of batch.dead) if (dl.reason === 'max_deliveries') await reader.probation.clear(dl.entryId);
        deadLettered = true;
        for (const dl of batch.dead) metrics.consumerDlq.inc({ reason: dl.reason });
      }
      await reader.ack(batch.ackIds);
    };
    const exported = async (): Promise<void> => {
      await exporter.write(batch, processedAt);
      const t = Date.now();
      for (const e of batch.entries) {
        // The store time is the entry id's: an entry another producer added with an explicit
        // id (`1-1`) would otherwise count as decades old. Clock skew can make it negative.
        const age = t - e.ingestedAtMs;
        if (e.ingestedAtMs > 0 && age <= maxLatencyMs) metrics.endToEndLatency.observe(Math.max(0, age) / 1000);
      }
    };
    // A suspect's mark is cleared as soon as it passed the stages (clearAfterStages): not here,
    // where it may wait behind an earlier batch whose export keeps failing.
    const probation = batch.probation;
    if (probation !== undefined) {
      const cleared = await (clearing.get(probation) ?? Promise.resolve(true));
      clearing.delete(probation);
      if (!cleared) return;
    }
    const after = d.afterExport;
    const persisted = async (): Promise<boolean> =>
      after === undefined ? true : persist('after_export', () => after({ batch, transitions }));
    if (c.ackMode === 'before_export') {
      if (!(await persist('ack', ack))) return;
      if (!(await persist('export', exported))) return;
      if (!(await persisted())) return;
    } else {
      if (!(await persist('export', exported))) return;
      if (!(await persisted())) return;
      if (!(await persist('ack', ack))) return;
    }
    metrics.consumerProcessed.inc(batch.entries.length + batch.dead.length);
  };

  const source$ = streamBatches(reader, demand$, {
    count: c.readCount,
    blockMs: c.readBlockMs,
    claimIdleMs: c.claimIdleMs,
    stopped: () => stopping,
    signal: abort.signal,
    onError: (err, attempt) => {
      metrics.consumerErrors.inc({ stage: 'read' });
      if (attempt === 0) logger.warn({ err: err.message }, 'consumer_read_failed_retrying');
    },
    onReclaimed: (n) => {
      metrics.consumerReclaimed.inc(n);
      logger.info({ reclaimed: n }, 'consumer_reclaimed_idle_entries');
    },
  });

  // Delivery counts decide nothing here but who is a suspect: poison-policy.ts.
  const decode = { maxDeliveries: Number.POSITIVE_INFINITY };
  const toBatch = (u: ReadUnit): Batch => {
    const b = decodeBatch(u.entries, decode);
    if (u.poisoned.length === 0 && u.probation === undefined && u.last) return b;
    return {
      entries: b.entries,
      // Every event of a poisoned entry as a max_deliveries dead letter, as decode words them.
      dead: [...b.dead, ...decodeBatch(u.poisoned, { maxDeliveries: 0 }).dead],
      ackIds: b.ackIds,
      ...(u.probation !== undefined && { probation: u.probation }),
      ...(!u.last && { moreInRead: true as const }),
    };
  };
  /** Probation marks being cleared, by entry id (poison-policy.ts). */
  const clearing = new Map<string, Promise<boolean>>();
  /**
   * Suspects' batches until they are delivered: the next suspect is marked only then, so at
   * most one mark is ever waiting to be cleared (a kill -9 can catch only that one).
   */
  const delivered = new Map<string, { readonly promise: Promise<void>; readonly resolve: () => void }>();
  const deliveredPromise = (id: string): Promise<void> => {
    let entry = delivered.get(id);
    if (entry === undefined) {
      let resolve: () => void = () => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      entry = { promise, resolve };
      delivered.set(id, entry);
    }
    return entry.promise;
  };
  const markDelivered = (batch: Batch): void => {
    const id = batch.probation;
    if (id === undefined) return;
    delivered.get(id)?.resolve();
    delivered.delete(id);
  };
  /** A suspect out of the stages has proved it can be processed: its mark goes at once. */
  const clearAfterStages = (staged: IncidentBatch): void => {
    const id = staged.batch.probation;
    if (id !== undefined && !clearing.has(id))
      clearing.set(
        id,
        persist('ack', () => reader.probation.clear(id)),
      );
  };
  const decoded$: Observable<Batch> = source$.pipe(
    tap(() => {
      inFlight = true;
    }),
    concatMap((entries) => from(readUnits(entries, c.maxDeliveries, reader.probation, deliveredPromise))),
    map(toBatch),
  );
  const warm = d.warmup === undefined ? [] : await d.warmup();
  if (warm.length > 0)
    logger.info(
      { batches: warm.length, entries: warm.reduce((n, b) => n + b.entries.length, 0) },
      'risk_window_rebuilt',
    );
  const all$ = concat(from(warm), decoded$);
  const stages = d.stages ?? map((batch: Batch): IncidentBatch => ({ batch, transitions: [] }));
  const staged$: Observable<IncidentBatch> = all$.pipe(stages, tap(clearAfterStages));

  const done = new Promise<void>((resolve) => {
    staged$
      .pipe(
        concatMap((staged) => {
          if (staged.batch.entries.length + staged.batch.dead.length > 0 && staged.batch.warmup !== true)
            metrics.consumerBatches.inc();
          // Made before delivery starts, so that a delivery done before the reader asks is not missed.
          if (staged.batch.probation !== undefined) void deliveredPromise(staged.batch.probation);
          // Only a read's last batch asks for the next read.
          return from(deliver(staged).finally(() => markDelivered(staged.batch))).pipe(
            map(() => staged.batch.warmup !== true && staged.batch.moreInRead !== true),
          );
        }),
      )
      .subscribe({
        next: (live) => {
          // Warm-up batches did not come from a read: they must not ask for another.
          if (!live) return;
          inFlight = false;
          if (stopping) demand$.complete();
          else demand$.next();
        },
        error: (err: unknown) => {
          running = false;
          logger.fatal({ err: (err as Error).message }, 'consumer_pipeline_failed');
          resolve();
        },
        complete: () => {
          running = false;
          resolve();
        },
      });
  });
  logger.info({ consumer: c.name, ackMode: c.ackMode }, 'consumer_started');

  return {
    name: c.name,
    running: () => running,
    stalled: () => stall,
    async stop() {
      if (stopping) return done;
      stopping = true;
      if (!inFlight) demand$.complete();
      // Interrupt a blocked XREADGROUP; a batch being delivered finishes first.
      await reader.close();
      const grace = setTimeout(() => abort.abort(), Math.max(1000, config.shutdownTimeoutMs - 5000));
      await done;
      clearTimeout(grace);
      logger.info({ consumer: c.name }, 'consumer_stopped');
    },
  };
}
