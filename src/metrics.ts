/**
 * Prometheus metrics: one registry of our own (never the global one), created once by the
 * composition root and handed to whoever records. Label values come from small fixed sets:
 * never merchant ids, event ids or keys.
 *
 * Every labelled counter exists from the start, at zero, for each label value known then (the
 * reasons and stages below, the configured processors): `increase()` and `rate()` need a
 * sample before the first increment, or the first jump after a start is lost.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { BucketHistogram } from './bucket-histogram.js';
import { AUTH_DENY_REASONS } from './http/api-keys.js';
import { DEAD_LETTER_REASONS } from './pipeline/types.js';
import { BANDS } from './risk-terms.js';
import { VERSION } from './version.js';

/** `payflux_ingest_rejected_total` reasons: refused events, then requests whose body was never read. */
export const INGEST_REJECT_REASONS = [
  'validation',
  'batch_too_large',
  'unavailable',
  'bad_json',
  'body_too_large',
  'unsupported_media_type',
  'disabled',
] as const;

/** `payflux_consumer_errors_total` stages: the consumer's read and the steps it retries per batch. */
export const CONSUMER_ERROR_STAGES = ['read', 'export', 'after_export', 'ack'] as const;

export const EVICTION_REASONS = ['maxlen', 'ttl'] as const;

/**
 * prom-client's default metrics include three gauges named `…_total`, which Prometheus reserves
 * for counters (`promtool check metrics` fails on them). Each is the sum of a `{type}` gauge
 * that stays: `sum(payflux_nodejs_active_handles)` gives the same number.
 */
const MISNAMED_DEFAULTS = [
  'payflux_nodejs_active_handles_total',
  'payflux_nodejs_active_requests_total',
  'payflux_nodejs_active_resources_total',
] as const;

export interface MetricsOptions {
  /** prom-client's process and Node.js metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** The accepted processors (`PAYFLUX_PROCESSORS`): their per-processor counters start at zero. */
  readonly processors?: readonly string[];
}

export interface Metrics {
  readonly registry: Registry;
  readonly ingestAccepted: Counter;
  readonly ingestRejected: Counter<'reason'>;
  readonly ingestDuplicate: Counter;
  readonly ingestDuration: BucketHistogram<'route'>;
  readonly eventsByProcessor: Counter<'processor'>;
  readonly authDenied: Counter<'reason'>;
  readonly ingestRateLimited: Counter;
  readonly appendBatchSize: BucketHistogram;
  readonly appendPending: Gauge;
  readonly consumerProcessed: Counter;
  readonly consumerDlq: Counter<'reason'>;
  readonly consumerBatches: Counter;
  readonly consumerReclaimed: Counter;
  readonly consumerErrors: Counter<'stage'>;
  readonly streamLength: Gauge;
  readonly pendingMessages: Gauge;
  readonly consumerLag: Gauge;
  readonly dlqDepth: Gauge;
  readonly streamEvictions: Counter<'reason'>;
  readonly streamOverCap: Gauge;
  readonly eventsExported: Counter<'destination'>;
  readonly exportErrors: Counter<'destination' | 'reason'>;
  readonly exportDropped: Counter<'destination'>;
  readonly exportLastSuccess: Gauge<'destination'>;
  readonly endToEndLatency: BucketHistogram;
  readonly riskScoreLast: Gauge<'processor'>;
  readonly riskEvents: Counter<'processor' | 'band'>;
  readonly riskLateEvents: Counter<'processor'>;
  readonly processorLastEvent: Gauge<'processor'>;
  readonly incidentsOpen: Gauge;
  readonly buildInfo: Gauge<'version' | 'node'>;
  readonly httpConnections: Gauge;
  readonly httpConnectionsRefused: Counter;
  readonly httpBodyBytesInFlight: Gauge;
  readonly httpBodyBudgetRefused: Counter;
  readonly logLinesDropped: Counter;
  /** One accepted event, added to its two counters at the next scrape: no label lookup a request. */
  countAccepted(processor: string): void;
  /** Where `payflux_http_connections` and `payflux_http_body_bytes_in_flight` read their values at each scrape. */
  readHttpConnectionsFrom(read: () => number): void;
  readHttpBodyBytesFrom(read: () => number): void;
  /** Where `payflux_log_dropped_lines_total` reads the log destination's running count. */
  readLogDroppedFrom(read: () => number): void;
  /**
   * Where `payflux_append_pending_events` reads its value at each scrape: the queue changes on
   * every request, and a gauge set only when a round trip ends stays stale once traffic stops.
   */
  readAppendPendingFrom(read: () => number): void;
}

/**
 * How a figure every process reads from the same place (Redis, the shared stream), or that one
 * process alone sets, adds up over PAYFLUX_WORKERS processes (supervisor.ts): once, not N times.
 */
const ONCE = 'max';

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: 'payflux_' });
    for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  }
  const r = [registry];
  let appendPending: () => number = () => 0;
  let httpConnections: () => number = () => 0;
  let httpBodyBytes: () => number = () => 0;
  let acceptedUncounted = 0;
  const byProcessorUncounted = new Map<string, number>();
  let logDropped: () => number = () => 0;
  let logDroppedSeen = 0;
  const metrics: Metrics = {
    registry,
    ingestAccepted: new Counter({
      name: 'payflux_ingest_accepted_total',
      help: 'Events accepted and stored in the buffer.',
      registers: r,
      collect() {
        this.inc(acceptedUncounted);
        acceptedUncounted = 0;
      },
    }),
    ingestRejected: new Counter({
      name: 'payflux_ingest_rejected_total',
      help: 'Events or requests rejected, by reason.',
      labelNames: ['reason'],
      registers: r,
    }),
    ingestDuplicate: new Counter({
      name: 'payflux_ingest_duplicate_total',
      help: 'Events answered as duplicates within the dedup window.',
      registers: r,
    }),
    ingestDuration: new BucketHistogram({
      name: 'payflux_ingest_duration_seconds',
      help: 'Ingest request duration, from arrival to answer.',
      labelName: 'route',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: r,
    }),
    eventsByProcessor: new Counter({
      name: 'payflux_events_by_processor_total',
      help: 'Accepted events by processor.',
      labelNames: ['processor'],
      registers: r,
      collect() {
        for (const [processor, n] of byProcessorUncounted) this.inc({ processor }, n);
        byProcessorUncounted.clear();
      },
    }),
    authDenied: new Counter({
      name: 'payflux_auth_denied_total',
      help: 'Requests denied by auth, by reason.',
      labelNames: ['reason'],
      registers: r,
    }),
    ingestRateLimited: new Counter({
      name: 'payflux_ingest_rate_limited_total',
      help: 'Requests answered 429 by the per-key rate limit.',
      registers: r,
    }),
    appendBatchSize: new BucketHistogram({
      name: 'payflux_append_batch_events',
      help: 'Events per micro-batched append round trip.',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers: r,
    }),
    appendPending: new Gauge({
      name: 'payflux_append_pending_events',
      help: 'Events waiting for or inside an append round trip.',
      registers: r,
      collect() {
        this.set(appendPending());
      },
    }),
    consumerProcessed: new Counter({
      name: 'payflux_consumer_processed_total',
      help: 'Entries processed by the consumer and acknowledged.',
      registers: r,
    }),
    consumerDlq: new Counter({
      name: 'payflux_consumer_dlq_total',
      help: 'Entries moved to the dead-letter stream, by reason.',
      labelNames: ['reason'],
      registers: r,
    }),
    consumerBatches: new Counter({
      name: 'payflux_consumer_batches_total',
      help: 'Batches read by the consumer.',
      registers: r,
    }),
    consumerReclaimed: new Counter({
      name: 'payflux_consumer_reclaimed_total',
      help: 'Entries reclaimed from idle consumers with XAUTOCLAIM.',
      registers: r,
    }),
    consumerErrors: new Counter({
      name: 'payflux_consumer_errors_total',
      help: 'Consumer errors that were retried, by stage.',
      labelNames: ['stage'],
      registers: r,
    }),
    streamLength: new Gauge({
      name: 'payflux_stream_length',
      aggregator: ONCE,
      help: 'Entries in the event stream (XLEN).',
      registers: r,
    }),
    pendingMessages: new Gauge({
      name: 'payflux_pending_messages',
      aggregator: ONCE,
      help: 'Entries delivered but not yet acknowledged.',
      registers: r,
    }),
    consumerLag: new Gauge({
      name: 'payflux_consumer_lag_messages',
      aggregator: ONCE,
      help: 'Entries not yet delivered to the group (XINFO GROUPS lag).',
      registers: r,
    }),
    dlqDepth: new Gauge({
      name: 'payflux_dlq_depth',
      aggregator: ONCE,
      help: 'Entries in the dead-letter stream.',
      registers: r,
    }),
    streamEvictions: new Counter({
      name: 'payflux_stream_evictions_total',
      help: 'Entries removed by retention, by reason.',
      labelNames: ['reason'],
      registers: r,
    }),
    streamOverCap: new Gauge({
      name: 'payflux_stream_over_cap_messages',
      aggregator: ONCE,
      help: 'Entries above PAYFLUX_STREAM_MAXLEN kept because they are not yet acknowledged.',
      registers: r,
    }),
    eventsExported: new Counter({
      name: 'payflux_events_exported_total',
      help: 'Export lines written, by destination.',
      labelNames: ['destination'],
      registers: r,
    }),
    exportErrors: new Counter({
      name: 'payflux_export_errors_total',
      help: 'Export write failures, by destination and reason.',
      labelNames: ['destination', 'reason'],
      registers: r,
    }),
    exportDropped: new Counter({
      name: 'payflux_export_dropped_events_total',
      help: 'Events a failing destination missed in before_export (best-effort) mode, by destination.',
      labelNames: ['destination'],
      registers: r,
    }),
    exportLastSuccess: new Gauge({
      name: 'payflux_exports_last_success_timestamp_seconds',
      aggregator: ONCE,
      help: 'Unix time of the last successful export write, by destination.',
      labelNames: ['destination'],
      registers: r,
    }),
    endToEndLatency: new BucketHistogram({
      name: 'payflux_end_to_end_latency_seconds',
      help: 'From ingest storing an event to its export line being written.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    riskScoreLast: new Gauge({
      name: 'payflux_processor_risk_score_last',
      aggregator: ONCE,
      help: 'Latest risk score per processor.',
      labelNames: ['processor'],
      registers: r,
    }),
    riskEvents: new Counter({
      name: 'payflux_processor_risk_events_total',
      help: 'Scored events by processor and band.',
      labelNames: ['processor', 'band'],
      registers: r,
    }),
    riskLateEvents: new Counter({
      name: 'payflux_risk_late_events_total',
      help: 'Events later than the allowed lateness, scored in the current bucket.',
      labelNames: ['processor'],
      registers: r,
    }),
    processorLastEvent: new Gauge({
      name: 'payflux_processor_last_event_timestamp_seconds',
      aggregator: ONCE,
      help: 'Unix time at which the consumer last scored an event of the processor.',
      labelNames: ['processor'],
      registers: r,
    }),
    incidentsOpen: new Gauge({
      name: 'payflux_incidents_open',
      aggregator: ONCE,
      help: 'Incidents (pilot warnings) this consumer holds open.',
      registers: r,
    }),
    buildInfo: new Gauge({
      name: 'payflux_build_info',
      aggregator: ONCE,
      help: 'Always 1; labels name the PayFlux version and the Node.js version running it.',
      labelNames: ['version', 'node'],
      registers: r,
    }),
    httpConnections: new Gauge({
      name: 'payflux_http_connections',
      help: 'HTTP connections open now.',
      registers: r,
      collect() {
        this.set(httpConnections());
      },
    }),
    httpConnectionsRefused: new Counter({
      name: 'payflux_http_connections_refused_total',
      help: 'HTTP connections closed at accept because PAYFLUX_HTTP_MAX_CONNECTIONS were open.',
      registers: r,
    }),
    httpBodyBytesInFlight: new Gauge({
      name: 'payflux_http_body_bytes_in_flight',
      help: 'Request-body bytes reserved by requests being read or handled (PAYFLUX_HTTP_BODY_BUDGET_BYTES).',
      registers: r,
      collect() {
        this.set(httpBodyBytes());
      },
    }),
    httpBodyBudgetRefused: new Counter({
      name: 'payflux_http_body_budget_refused_total',
      help: 'Requests answered 503 PF_ERR_BODY_BUDGET before their body was read.',
      registers: r,
    }),
    logLinesDropped: new Counter({
      name: 'payflux_log_dropped_lines_total',
      help: 'Log lines dropped because stderr did not take them (a stalled or closed reader).',
      registers: r,
      collect() {
        const n = logDropped();
        if (n > logDroppedSeen) this.inc(n - logDroppedSeen);
        logDroppedSeen = n;
      },
    }),
    readAppendPendingFrom(read) {
      appendPending = read;
    },
    countAccepted(processor) {
      acceptedUncounted++;
      byProcessorUncounted.set(processor, (byProcessorUncounted.get(processor) ?? 0) + 1);
    },
    readHttpConnectionsFrom(read) {
      httpConnections = read;
    },
    readHttpBodyBytesFrom(read) {
      httpBodyBytes = read;
    },
    readLogDroppedFrom(read) {
      logDropped = read;
    },
  };
  metrics.buildInfo.set({ version: VERSION, node: process.versions.node }, 1);
  for (const reason of INGEST_REJECT_REASONS) metrics.ingestRejected.inc({ reason }, 0);
  for (const reason of AUTH_DENY_REASONS) metrics.authDenied.inc({ reason }, 0);
  for (const stage of CONSUMER_ERROR_STAGES) metrics.consumerErrors.inc({ stage }, 0);
  for (const reason of DEAD_LETTER_REASONS) metrics.consumerDlq.inc({ reason }, 0);
  for (const reason of EVICTION_REASONS) metrics.streamEvictions.inc({ reason }, 0);
  for (const processor of opts.processors ?? []) {
    metrics.eventsByProcessor.inc({ processor }, 0);
    metrics.riskLateEvents.inc({ processor }, 0);
    for (const band of BANDS) metrics.riskEvents.inc({ processor, band }, 0);
  }
  return metrics;
}

/**
 * Common reasons a write to a file or a pipe fails (errno codes): `payflux_export_errors_total`
 * starts at zero with these for each destination. Rarer codes appear when they happen.
 */
export const EXPORT_ERROR_REASONS = ['ENOSPC', 'EDQUOT', 'EACCES', 'EROFS', 'EIO', 'ENOENT', 'EPIPE'] as const;

/** Start a destination's export counters at zero (the exporter calls this for each destination it opens). */
export function initExportSeries(
  metrics: Pick<Metrics, 'eventsExported' | 'exportErrors' | 'exportDropped'>,
  destination: string,
): void {
  metrics.eventsExported.inc({ destination }, 0);
  metrics.exportDropped.inc({ destination }, 0);
  for (const reason of EXPORT_ERROR_REASONS) metrics.exportErrors.inc({ destination, reason }, 0);
}
