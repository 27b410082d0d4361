/**
 * Operations endpoints, no key needed: `/health` (alive and the buffer answers), `/ready`
 * (readiness with detail), `/metrics` (Prometheus text from our own registry).
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { healthSchema, metricsSchema, readySchema } from './route-schemas.js';

export type Health = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface ReadyReport {
  readonly ready: boolean;
  readonly [detail: string]: unknown;
}

/** Where `/metrics` comes from: our registry, or every worker's aggregated (http/worker-link.ts). */
export type MetricsSource = Pick<Registry, 'metrics' | 'contentType'>;

export interface OpsRoutesOptions {
  readonly health: () => Promise<Health>;
  readonly ready: () => Promise<ReadyReport>;
  readonly registry: MetricsSource;
}

export async function opsRoutes(app: FastifyInstance, o: OpsRoutesOptions): Promise<void> {
  app.get('/health', { schema: healthSchema }, async (_req, reply) => {
    const h = await o.health();
    return h.ok ? { status: 'ok' } : reply.code(503).send({ status: 'unhealthy', reason: h.reason });
  });

  app.get('/ready', { schema: readySchema }, async (_req, reply) => {
    const r = await o.ready();
    return reply.code(r.ready ? 200 : 503).send(r);
  });

  app.get('/metrics', { schema: metricsSchema }, async (_req, reply) => {
    const text = await o.registry.metrics();
    return reply.type(o.registry.contentType).send(text);
  });
}
