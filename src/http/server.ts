/**
 * The HTTP server, built but not listening: tests may `inject()` or listen on port 0. `main.ts`
 * builds it on the starting server's port (`listening`), which then hands its requests over.
 * Route groups are plugins registered here; each owns one file.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import { bodyBudgetHook, createBodyBudget } from './body-budget.js';
import { connectionCap, limitConnections, serverTimeouts } from './connection-limits.js';
import { clientError, frameworkError, installErrorHandling, requestIdFor } from './error-handler.js';
import { ingestRoutes, type IngestRoutesOptions } from './ingest-routes.js';
import { opsRoutes, type OpsRoutesOptions } from './ops-routes.js';
import { registerOpenApi } from './openapi.js';
import type { StartingServer } from './starting-server.js';

/** A further route group and its options (risk API, pilot, webhooks, …). */
export interface RouteGroup {
  readonly plugin: FastifyPluginAsync<never>;
  readonly options: unknown;
}

/** A plugin with its options, type-checked against each other. */
export function routeGroup<O>(plugin: (app: FastifyInstance, options: O) => Promise<void>, options: O): RouteGroup {
  return { plugin: plugin, options };
}

export interface ServerDeps {
  readonly logger: Logger;
  /** `PAYFLUX_PROCESSORS`, for the OpenAPI document's event schema. */
  readonly processors: readonly string[];
  readonly ops: OpsRoutesOptions;
  readonly ingest: IngestRoutesOptions;
  readonly routes?: readonly RouteGroup[];
  /** Timeouts, the connection cap and the body budget (connection-limits.ts, body-budget.ts). */
  readonly http: Config['http'];
  readonly metrics: Metrics;
  /**
   * A server already listening to build on (starting-server.ts): no `listen()` then, and
   * `close()` closes it (stops accepting, closes idle connections, waits for the busy ones).
   */
  readonly listening?: Pick<StartingServer, 'serverFactory'>;
}

export function buildServer(d: ServerDeps): FastifyInstance {
  const app = Fastify({
    ...serverTimeouts(d.http),
    // Fastify gets no logger of its own: with one, every request pays for a child logger, two
    // response listeners and two clock reads. PayFlux logs what it answers itself (error-handler.ts,
    // failure-log.ts) through `app.log`, set to our logger below, and nothing per request.
    // Fastify's own warnings about misuse of its API (a reply sent twice) go unlogged: the tests
    // catch those. Measured: bench/README.md, "Ingest: levers measured".
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdFor,
    // While closing, new requests get our own 503 (installErrorHandling) and keep-alive sockets
    // are told to go away (Fastify sets Connection: close).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Unknown fields are ignored, never an error; __proto__/constructor keys are refused.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Errors before any route or hook runs get the same JSON contract (error-handler.ts).
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
    ...(d.listening !== undefined && { serverFactory: d.listening.serverFactory }),
  }) as unknown as FastifyInstance;
  app.log = d.logger;
  installErrorHandling(app);
  if (d.listening !== undefined) closeWithApp(app);
  limitConnections(app.server, connectionCap(d.http.maxConnections), d.metrics);
  const budget = createBodyBudget(d.http.bodyBudgetBytes);
  d.metrics.readHttpBodyBytesFrom(() => budget.inFlight);
  app.addHook('preParsing', bodyBudgetHook(budget, d.metrics));
  // JSON only (415 otherwise); the batch route adds NDJSON, the Stripe route its raw body.
  app.removeContentTypeParser('text/plain');
  registerOpenApi(app, { processors: d.processors });
  void app.register(opsRoutes, d.ops);
  void app.register(ingestRoutes, d.ingest);
  for (const r of d.routes ?? [])
    void app.register(r.plugin as FastifyPluginAsync, r.options as Record<string, unknown>);
  return app;
}

/**
 * Close a server Fastify did not listen on itself where Fastify closes its own: once every
 * `preClose` hook ran (late requests get their 503s; the long-lived streams are ended), stop
 * accepting, close the idle connections and wait for the busy ones.
 */
function closeWithApp(app: FastifyInstance): void {
  app.addHook('onClose', async () => {
    await new Promise<void>((resolve) => app.server.close(() => resolve()));
  });
}
