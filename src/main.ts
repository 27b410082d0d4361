/**
 * Composition root: config → resources → pipeline → listen → close. With cli.ts and serve.ts,
 * the only module that knows every folder. `start()` is what tests, the library and
 * `payflux serve` (serve.ts, which adds signals and exit codes) call.
 */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createLogger } from './logger.js';
import { stderrDropped } from './log-destination.js';
import { createMetrics, type Metrics } from './metrics.js';
import { TIER_LABELS } from './risk-terms.js';
import { VERSION } from './version.js';
import type { EventBuffer } from './buffer/buffer.js';
import { connectBuffer } from './buffer/connect.js';
import { startMaintenance } from './buffer/maintenance.js';
import { closeSideConnection, openSideConnection } from './buffer/side-connection.js';
import { exportHealthRoutes } from './http/export-health-routes.js';
import { createIngest } from './http/ingest.js';
import { loadKeySet } from './http/key-files.js';
import { createReadiness } from './http/readiness.js';
import { riskRoutes } from './http/risk-routes.js';
import type { WorkerLink } from './http/worker-link.js';
import { buildServer, routeGroup } from './http/server.js';
import { openStartingServer } from './http/starting-server.js';
import { createConsumerNode } from './pipeline/consumer-node.js';
import { createExporter } from './sinks/exporter.js';
import { createPilot } from './pilot/pilot.js';
import { riskApiRoutes } from './risk-api/routes.js';

export interface StartOptions {
  readonly logger?: Logger;
  /**
   * Where export lines go for `stdout` mode (tests pass their own stream). Its write callback
   * must mean the chunk was consumed: the exporter reuses the buffer (see createLineEncoder).
   */
  readonly stdout?: NodeJS.WritableStream;
  /** Listen at all (false: build only, for inject()). Default true. */
  readonly listen?: boolean;
  /** A supervised worker's link (PAYFLUX_WORKERS > 1): `/metrics` and `/ready` over every worker. */
  readonly link?: WorkerLink;
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
  metrics.readLogDroppedFrom(stderrDropped);
  const abort = new AbortController();
  // Key files first: a bad one is a config error (exit 78), before any connection is made.
  const keySet = loadKeySet(config);
  const tier = { name: config.risk.tier, label: TIER_LABELS[config.risk.tier] };
  // The port opens now, whatever Redis does: /health says why PayFlux is not up yet.
  const starting =
    o.listen === false
      ? undefined
      : await openStartingServer({
          host: config.http.host,
          port: config.http.port,
          registry: metrics.registry,
          http: config.http,
          detail: { role: config.role, tier },
        });
  if (starting !== undefined)
    logger.info(
      { address: starting.url, version: VERSION, tier: tier.name, tier_label: tier.label, role: config.role },
      'server_listening',
    );
  const buffer = await connectBuffer(config, {
    logger,
    signal: abort.signal,
    onRetry: (why) => starting?.setReason(why),
  }).catch((err: unknown) => {
    starting?.close();
    throw err;
  });
  const sideRedis = await openSideConnection(config, buffer, logger);
  if (sideRedis === undefined && config.riskApi.enabled)
    logger.warn('the Risk Intelligence API needs Redis: disabled on the memory buffer');

  const ingestOn = config.role !== 'consumer' && config.ingest.enabled;
  const consumerOn = config.role !== 'ingest';
  const ingest = createIngest(config, { buffer, metrics, logger, keySet, enabled: ingestOn });

  const stdout = o.stdout ?? process.stdout;
  // A reader of stdout that goes away (EPIPE) must not crash PayFlux: the failed write reaches
  // the exporter, which reports the destination unhealthy and holds the acks.
  stdout.on('error', (err: Error) => logger.error({ err: err.message }, 'stdout_error'));
  // Pilot outcome annotations are export lines too, also on a node that only ingests.
  const exporter =
    consumerOn || config.pilot.enabled ? await createExporter(config, { metrics, logger, stdout }) : undefined;
  const pilot = await createPilot(config, {
    redis: sideRedis,
    metrics,
    logger,
    annotate: (line) => exporter?.annotate(line) ?? Promise.resolve(),
    guard: ingest.guard,
    consumer: consumerOn,
    ingest: ingest.bulk,
    buffer,
  });
  const node = await createConsumerNode(config, {
    buffer,
    exporter,
    metrics,
    logger,
    enabled: consumerOn,
    incidents: pilot.incidents,
    afterExport: pilot.afterExport,
    records: pilot.records,
  });
  const { consumer } = node;
  const maintenance = startMaintenance(config, { buffer, metrics, logger, consumerName: consumer?.name });
  const readiness = createReadiness({
    config,
    buffer,
    ingest: { enabled: ingestOn, pending: () => ingest.batcher.pending },
    consumer,
    exporter: consumerOn ? exporter : undefined,
    maintenance,
  });

  const { keyPrefix } = config.buffer;
  const registry = metrics.registry;
  const ops = o.link?.attach(registry, () => readiness.ready()) ?? { registry, ready: () => readiness.ready() };
  const app = buildServer({
    logger,
    http: config.http,
    metrics,
    processors: config.ingest.processors,
    ops: { ...ops, health: () => readiness.health() },
    ...(starting !== undefined && { listening: starting }),
    ingest: ingest.routes,
    routes: [
      ...(exporter ? [routeGroup(exportHealthRoutes, { exporter })] : []),
      ...(sideRedis !== undefined && config.riskApi.enabled
        ? [routeGroup(riskApiRoutes, { config: config.riskApi, redis: sideRedis, keyPrefix, registry, logger })]
        : []),
      ...pilot.routes,
      routeGroup(riskRoutes, { guard: ingest.guard, snapshot: () => node.snapshot(), ...config.risk }),
    ],
  });

  let url = '';
  let port = 0;
  await app.ready();
  if (starting !== undefined) {
    // The port stays open throughout: its requests go to the full server from here on.
    starting.handOver();
    url = starting.url;
    port = starting.port;
    logger.info({ address: url, buffer: buffer.kind, role: config.role }, 'server_ready');
  }

  let closing: Promise<void> | undefined;
  return {
    config,
    url,
    port,
    buffer,
    metrics,
    logger,
    async reload(env = process.env) {
      ingest.reloadKeys(env);
      await exporter?.reopen();
    },
    close() {
      closing ??= (async () => {
        abort.abort();
        // Order: stop taking requests (in-flight ones are answered), let queued appends land,
        // finish the batch in flight and ack it, flush the sinks, then close Redis.
        await app.close();
        await ingest.batcher.drain();
        await node.stop();
        await pilot.close();
        maintenance.stop();
        await exporter?.close();
        await closeSideConnection(sideRedis);
        await buffer.close();
        logger.info('shutdown_complete');
        logger.flush();
      })();
      return closing;
    },
  };
}
