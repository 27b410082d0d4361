/**
 * Composition root: config → resources → pipeline → listen → signals → close.
 * The only module that knows every folder. `start()` is what tests and the CLI call;
 * `main()` adds the process concerns (env, signals, exit codes).
 */
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import { ConfigError, environment, loadConfig, type Config } from './config.js';
import { PayFluxError } from './errors.js';
import { createLogger } from './logger.js';
import { createAppendBatcher } from './buffer/append-batcher.js';
import type { EventBuffer } from './buffer/buffer.js';
import { connectBuffer } from './buffer/connect.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createApiKeys } from './http/api-keys.js';
import { createGuard } from './http/guard.js';
import { loadKeySet, sameKeySet } from './http/key-files.js';
import { buildServer } from './http/server.js';
import { createTokenBuckets } from './http/token-bucket.js';
import { createEventValidator } from './events/validate-event.js';
import { startMaintenance } from './buffer/maintenance.js';
import { startConsumer, type RunningConsumer } from './pipeline/consumer.js';
import { createExporter, type Exporter } from './sinks/exporter.js';
import { exportHealthRoutes } from './http/export-health-routes.js';
import { riskRoutes } from './http/risk-routes.js';
import type { RiskBatchReport, RiskScorer } from './operators/risk/risk-scorer.js';
import { riskStages } from './pipeline/risk-stages.js';
import type { Batch } from './pipeline/types.js';
import { warmupBatches } from './sources/warmup-batches.js';
import { Redis } from 'ioredis';
import { redisOptions } from './buffer/redis-buffer.js';
import { riskApiRoutes } from './risk-api/routes.js';
import type { RouteGroup } from './http/server.js';
import { createPilot } from './pilot/pilot.js';
import { createEventIngestor } from './http/ingest-routes.js';

export interface StartOptions {
  readonly logger?: Logger;
  /** Where export lines go for `stdout` mode (tests pass their own stream). Its write callback must mean the chunk was consumed: the exporter reuses the buffer (see createLineEncoder). */
  readonly stdout?: NodeJS.WritableStream;
  /** Listen at all (false: build only, for inject()). Default true. */
  readonly listen?: boolean;
}

type Environment = Readonly<Record<string, string | undefined>>;

export interface Running {
  readonly config: Config;
  readonly url: string;
  readonly port: number;
  readonly buffer: EventBuffer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /**
   * SIGHUP: reload keys from `env` (or from what `env()` returns: a reader that throws, such as
   * an unreadable `.env`, keeps the old keys), then reopen the export file in either case.
   */
  reload(env?: Environment | (() => Environment)): Promise<void>;
  close(): Promise<void>;
}

export async function start(config: Config, o: StartOptions = {}): Promise<Running> {
  const logger = o.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics({ processors: config.ingest.processors });
  const abort = new AbortController();
  // Key files first: a bad one is a config error (exit 78), before any connection is made.
  let keySet = loadKeySet(config);
  const buffer = await connectBuffer(config, { logger, signal: abort.signal });

  const ingestOn = config.role !== 'consumer' && config.ingest.enabled;
  const consumerOn = config.role !== 'ingest';
  const batcher = createAppendBatcher(buffer, {
    maxBatch: config.ingest.appendMaxBatch,
    maxPending: config.ingest.appendMaxPending,
    timeoutMs: config.ingest.appendTimeoutMs,
    maxInFlight: config.ingest.appendMaxInFlight,
    onFlush: (n) => metrics.appendBatchSize.observe(n),
  });
  metrics.readAppendPendingFrom(() => batcher.pending);

  // Side features (Risk API, pilot warnings) keep their state in Redis: one shared connection,
  // and none at all on the memory buffer, where those features are off with a warning.
  const sideRedis =
    buffer.kind === 'redis'
      ? new Redis(config.buffer.redis.url, { ...redisOptions(config.buffer.redis), connectionName: 'payflux-side' })
      : undefined;
  sideRedis?.on('error', (err: Error) => logger.debug({ err: err.message }, 'redis_side_error'));
  // The buffer just connected to the same server, so this is quick; pilot reads on start.
  await sideRedis?.connect();
  if (sideRedis === undefined && config.riskApi.enabled)
    logger.warn('the Risk Intelligence API needs Redis: disabled on the memory buffer');

  const apiKeys = createApiKeys(keySet.keys, keySet.revoked);
  if (apiKeys.size === 0)
    logger.warn('no API keys configured (PAYFLUX_API_KEYS): every authenticated request will be refused');
  const guard = createGuard({
    apiKeys,
    buckets: createTokenBuckets({
      rps: config.auth.rateLimitRps,
      burst: config.auth.rateLimitBurst,
      maxKeys: config.auth.rateLimitMaxKeys,
    }),
    metrics,
  });

  const validate = createEventValidator({
    processors: config.ingest.processors,
    maxClockSkewSec: config.ingest.maxClockSkewSec,
    maxAgeSec: config.buffer.rawEventTtlDays * 86_400,
  });
  const ingestOne = createEventIngestor({ validate, batcher, metrics });

  const stdout = o.stdout ?? process.stdout;
  // A reader of stdout that goes away (EPIPE) must not crash PayFlux: the failed write reaches
  // the exporter, which reports the destination unhealthy and holds the acks.
  stdout.on('error', (err: Error) => logger.error({ err: err.message }, 'stdout_error'));
  const pilot = await createPilot(config, {
    redis: sideRedis,
    metrics,
    logger,
    stdout,
    guard,
    consumer: consumerOn,
    // Events mapped from Stripe webhooks take the same checks, dedup and metrics as
    // POST /v1/events/payment_exhaust: a refused one is answered 400 naming the rule (Stripe
    // shows it on the endpoint and retries), and a node that does not ingest answers 503.
    ingest: async (events) => {
      if (!ingestOn) throw new PayFluxError('PF_ERR_INGEST_DISABLED', 'ingest is disabled on this node', undefined, 30);
      const outcomes = [];
      for (const e of events) outcomes.push(await ingestOne(e));
      return outcomes;
    },
  });

  const exporter: Exporter | undefined = consumerOn
    ? await createExporter(config, { metrics, logger, stdout })
    : undefined;
  let scorer: RiskScorer | undefined;
  const consumer: RunningConsumer | undefined =
    consumerOn && exporter
      ? await startConsumer(config, {
          buffer,
          exporter,
          metrics,
          logger,
          afterExport: pilot.afterExport,
          stages: riskStages({
            risk: config.risk,
            incidents: pilot.incidents,
            onScorer: (s) => {
              scorer = s;
            },
            onScored: riskRecorder(metrics),
          }),
          warmup: () =>
            warmupBatches(buffer, {
              windowSec: config.risk.windowSec,
              allowedLatenessSec: config.risk.allowedLatenessSec,
              now: Date.now(),
            }),
        })
      : undefined;
  const maintenance = startMaintenance(config, { buffer, metrics, logger, consumerName: consumer?.name });

  const app = buildServer({
    logger,
    processors: config.ingest.processors,
    ops: {
      registry: metrics.registry,
      health: async () => {
        try {
          await withTimeout(buffer.ping(), 500);
          return { ok: true };
        } catch (err) {
          return { ok: false, reason: `buffer unavailable: ${(err as Error).message}` };
        }
      },
      ready: async () => {
        const stats = maintenance.lastStats();
        const exportState = exporter?.health();
        const bufferUp = buffer.available;
        // A stage retried for longer than the export staleness bound (the warnings store, the
        // ack) stalls export as surely as a failing destination does.
        const stall = consumer?.stalled();
        const stalled = stall !== undefined && Date.now() - stall.sinceMs > config.export.staleSec * 1000;
        const ready =
          bufferUp && (consumer === undefined || consumer.running()) && exportState?.healthy !== false && !stalled;
        return {
          ready,
          role: config.role,
          buffer: buffer.kind,
          redis: buffer.kind === 'redis' ? { connected: bufferUp } : undefined,
          ingest: { enabled: ingestOn, pending: batcher.pending },
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
    },
    ingest: {
      enabled: ingestOn,
      guard,
      validate,
      batcher,
      metrics,
      maxBodyBytes: config.ingest.maxBodyBytes,
      maxBatch: config.ingest.maxBatch,
      maxBatchBodyBytes: config.ingest.maxBatchBodyBytes,
    },
    routes: [
      ...(exporter ? [{ plugin: exportHealthRoutes, options: { exporter } }] : []),
      ...(sideRedis !== undefined && config.riskApi.enabled
        ? [
            {
              plugin: riskApiRoutes,
              options: {
                config: config.riskApi,
                redis: sideRedis,
                keyPrefix: config.buffer.keyPrefix,
                registry: metrics.registry,
                logger,
              },
            } as RouteGroup,
          ]
        : []),
      ...pilot.routes,
      {
        plugin: riskRoutes,
        options: {
          guard,
          snapshot: () => scorer?.snapshot(),
          model: config.risk.model,
          tier: config.risk.tier,
          windowSec: config.risk.windowSec,
        },
      },
    ],
  });

  let url = '';
  let port = 0;
  if (o.listen !== false) {
    url = await app.listen({ host: config.http.host, port: config.http.port });
    const addr = app.server.address();
    port = typeof addr === 'object' && addr !== null ? addr.port : config.http.port;
    logger.info({ address: url, buffer: buffer.kind, role: config.role }, 'server_listening');
  } else await app.ready();

  let closing: Promise<void> | undefined;
  return {
    config,
    url,
    port,
    buffer,
    metrics,
    logger,
    async reload(env = process.env) {
      try {
        const next = loadKeySet(loadConfig(typeof env === 'function' ? env() : env));
        if (sameKeySet(next, keySet)) {
          // Nothing to change: with keys in the process environment this is every SIGHUP.
          logger.warn(
            {
              keys: apiKeys.size,
              hint: 'keys in the process environment cannot change in a running process: use .env or PAYFLUX_API_KEYS_FILE',
            },
            'api_keys_unchanged',
          );
        } else {
          apiKeys.reload(next.keys, next.revoked);
          keySet = next;
          logger.info({ keys: apiKeys.size, revoked: next.revoked.length }, 'api_keys_reloaded');
        }
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'reload_failed_keeping_old_keys');
      }
      await exporter?.reopen();
    },
    close() {
      closing ??= (async () => {
        abort.abort();
        // Order: stop taking requests (in-flight ones are answered), let queued appends land,
        // finish the batch in flight and ack it, flush the sinks, then close Redis.
        await app.close();
        await batcher.drain();
        await consumer?.stop();
        await pilot.close();
        maintenance.stop();
        await exporter?.close();
        await sideRedis?.quit().catch(() => sideRedis.disconnect());
        await buffer.close();
        logger.info('shutdown_complete');
        logger.flush();
      })();
      return closing;
    },
  };
}

/** Risk metrics, once per batch: labelled by processor and band, both small closed sets. */
function riskRecorder(metrics: Metrics): (report: RiskBatchReport, batch: Batch) => void {
  // The snapshot carries running totals; the counter wants increments.
  const lateSeen = new Map<string, number>();
  return (report, batch) => {
    for (const p of report.processors) {
      metrics.riskScoreLast.set({ processor: p.processor }, p.score);
      const seen = lateSeen.get(p.processor) ?? 0;
      if (p.totals.tooLate > seen) metrics.riskLateEvents.inc({ processor: p.processor }, p.totals.tooLate - seen);
      lateSeen.set(p.processor, p.totals.tooLate);
    }
    // Wall-clock time, not event time: producers' clocks and backlogs must not silence alerts.
    // Not for the window rebuilt at start: that traffic is history, not traffic now.
    const nowSec = Date.now() / 1000;
    for (const b of report.bands) {
      metrics.riskEvents.inc({ processor: b.processor, band: b.band }, b.count);
      if (batch.warmup !== true) metrics.processorLastEvent.set({ processor: b.processor }, nowSec);
    }
  };
}

function exitOnConfigError(err: unknown): void {
  if (!(err instanceof ConfigError)) return;
  process.stderr.write(`payflux: ${err.message}\n`);
  process.exit(78);
}

/**
 * Let the old generation grow by `percent` after each major GC instead of by V8's own factor
 * (1.1–4× the live heap by how cheap GC looks; the flag replaces it in every case). Under sustained load the batches in flight
 * survive scavenges and promote short-lived objects: with V8's factor the old space sawed
 * between ~30 MB live and 100–135 MB of garbage for the first minutes, and RSS peaked at
 * 250–275 MB in 200-s soaks at 44k events/s. Measured (bench/README, seventh session): 100 %
 * kept that soak at 142–184 MB with no drain or end-to-end throughput lost in alternating
 * runs; 25 % kept it at 133–147 MB but cost the drain up to a fifth in more major GCs.
 * V8 reads the flag whenever it sets the next limit, so setting it at start works like the
 * command-line flag (measured). 0 leaves V8 alone, and with it any `--heap-growing-percent`
 * given to Node itself.
 */
function tuneHeap(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/** `payflux serve`: run until SIGTERM/SIGINT; exit 78 on bad config. */
export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(environment());
  } catch (err) {
    exitOnConfigError(err);
    throw err;
  }
  tuneHeap(config.heapGrowingPercent);
  const logger = createLogger(config.logLevel);
  // start() can take a while (Redis unreachable, a long window rebuild). A SIGHUP meanwhile
  // (logrotate) would end the process by default: note it and reload once started.
  let hupWhileStarting = false;
  const hupDuringStart = (): void => {
    hupWhileStarting = true;
  };
  process.on('SIGHUP', hupDuringStart);
  const running = await start(config, { logger }).catch((err: unknown) => {
    exitOnConfigError(err); // the key files, read by start()
    throw err;
  });
  process.off('SIGHUP', hupDuringStart);
  // environment() reads .env: passed as a reader so that an unreadable one is reload's error.
  process.on('SIGHUP', () => void running.reload(environment));
  if (hupWhileStarting) void running.reload(environment);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutdown_started');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown_timed_out');
      logger.flush();
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: (err as Error).message }, 'shutdown_failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: { message: err.message, stack: err.stack } }, 'uncaught_exception');
    if (config.panicMode === 'crash') {
      logger.flush();
      process.exit(1);
    }
  });
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: String(reason) }, 'unhandled_rejection');
    if (config.panicMode === 'crash') {
      logger.flush();
      process.exit(1);
    }
  });
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
