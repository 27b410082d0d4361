/** `GET /export/health`: per-destination export state; 503 once a destination is stale. */
import type { FastifyInstance } from 'fastify';
import type { Exporter } from '../sinks/exporter.js';
import { exportHealthSchema } from './route-schemas.js';

export async function exportHealthRoutes(app: FastifyInstance, o: { exporter: Exporter }): Promise<void> {
  app.get('/export/health', { schema: exportHealthSchema }, async (_req, reply) => {
    const h = o.exporter.health();
    return reply.code(h.healthy ? 200 : 503).send(h);
  });
}
