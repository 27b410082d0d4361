/** `GET /export/health`: per-destination export state; 503 once a destination is stale. */
import type { FastifyInstance } from 'fastify';
import type { Exporter } from '../sinks/exporter.js';

export async function exportHealthRoutes(app: FastifyInstance, o: { exporter: Exporter }): Promise<void> {
  app.get('/export/health', async (_req, reply) => {
    const h = o.exporter.health();
    return reply.code(h.healthy ? 200 : 503).send(h);
  });
}
