/**
 * `GET /v1/risk/processors`: the live risk state of every processor, read from the consumer's
 * window between batches (score, band, drivers, components, trajectory, counts).
 */
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { ProcessorRiskSnapshot } from '../operators/risk/risk-snapshot.js';
import { riskProcessorsSchema } from './route-schemas.js';

export interface RiskRoutesOptions {
  readonly guard: onRequestHookHandler;
  /** Undefined until the consumer's pipeline is subscribed, and on ingest-only nodes. */
  readonly snapshot: () => readonly ProcessorRiskSnapshot[] | undefined;
  readonly model: string;
  readonly tier: string;
  readonly windowSec: number;
}

export async function riskRoutes(app: FastifyInstance, o: RiskRoutesOptions): Promise<void> {
  app.get('/v1/risk/processors', { onRequest: o.guard, schema: riskProcessorsSchema }, async () => {
    const processors = o.snapshot();
    return {
      model: o.model,
      tier: o.tier,
      window_sec: o.windowSec,
      // An ingest-only node has no window: say so rather than report everything as calm.
      live: processors !== undefined,
      processors: processors ?? [],
    };
  });
}
