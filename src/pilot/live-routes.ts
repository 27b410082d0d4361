/**
 * The dashboard's live API, behind the same bearer auth as the warnings API:
 * - `GET /pilot/processors`: every processor's latest state (the tiles), as JSON;
 * - `GET /pilot/processors/stream`: the same as server-sent events (`event: state`), sent when
 *   it changes and at least every 15 s. Browsers' EventSource cannot send an Authorization
 *   header, so the page reads this stream with fetch(), which can;
 * - `GET /pilot/processors/:processor/history?range=1h|6h|24h`: risk over time with incidents.
 * Everything is read from Redis, so any node answers, whichever node scores the processor.
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance, onRequestAsyncHookHandler, onRequestHookHandler } from 'fastify';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { PayFluxError } from '../errors.js';
import { validationError } from '../http/validation-error.js';
import { createLiveHub } from './live-hub.js';
import { RANGE_NAMES, type LiveState, type RangeName } from './live-state.js';

export interface LiveRoutesOptions {
  readonly state: LiveState;
  /** PAYFLUX_PROCESSORS: history is asked for these only. */
  readonly processors: readonly string[];
  readonly authenticate: onRequestHookHandler | onRequestAsyncHookHandler;
  readonly registry: Registry;
  readonly log: Logger;
  /** How often the feed reads Redis while someone listens (default 1000 ms). */
  readonly intervalMs?: number;
  /** Streams open at once on this node (default 64); more are 503. */
  readonly maxStreams?: number;
  /** A stream ends after this long (default 10 min) and the page reconnects, its key checked again. */
  readonly maxStreamMs?: number;
}

/** A client that stops reading is dropped once this much is queued for it. */
const MAX_QUEUED_BYTES = 1_048_576;
const HEARTBEAT_MS = 15_000;

const historySchema = {
  params: {
    type: 'object',
    properties: { processor: { type: 'string', minLength: 1, maxLength: 100 } },
  },
  querystring: {
    type: 'object',
    properties: { range: { type: 'string', enum: [...RANGE_NAMES] } },
  },
} as const;

export async function liveRoutes(app: FastifyInstance, o: LiveRoutesOptions): Promise<void> {
  const gauge = new Gauge({
    name: 'payflux_dashboard_streams',
    help: 'Dashboard live streams open on this node.',
    registers: [o.registry],
  });
  const hub = createLiveHub({
    read: () => o.state.snapshot(),
    intervalMs: o.intervalMs ?? 1000,
    heartbeatMs: HEARTBEAT_MS,
    maxSubscribers: o.maxStreams ?? 64,
    log: o.log,
    onCount: (n) => gauge.set(n),
  });
  const maxStreamMs = o.maxStreamMs ?? 600_000;
  const open = new Set<() => void>();
  const known = new Set(o.processors);

  // Open streams would hold app.close() until their clients hang up.
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
    hub.close();
  });
  app.addHook('onRequest', o.authenticate as onRequestAsyncHookHandler);

  app.get('/pilot/processors', async () => o.state.snapshot());

  app.get('/pilot/processors/stream', async (_req, reply) => {
    const stream = new PassThrough();
    const end = (): void => {
      if (!open.delete(end)) return;
      unsubscribe?.();
      clearTimeout(limit);
      stream.end();
    };
    const unsubscribe = hub.subscribe((frame) => {
      if (stream.writableLength > MAX_QUEUED_BYTES) end();
      else stream.write(frame);
    });
    if (unsubscribe === undefined)
      throw new PayFluxError('PF_ERR_OVERLOADED', 'too many dashboard streams on this node', { retryAfterSec: 5 });
    const limit = setTimeout(end, maxStreamMs);
    open.add(end);
    reply.raw.on('close', end);
    // The page reconnects itself; `retry` is for EventSource clients.
    stream.write(`retry: 2000\n\n`);
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache, no-transform')
      .header('x-accel-buffering', 'no')
      .send(stream);
  });

  app.get<{ Params: { processor: string }; Querystring: { range?: RangeName } }>(
    '/pilot/processors/:processor/history',
    { schema: historySchema, attachValidation: true },
    async (req) => {
      if (req.validationError) throw validationError(req.validationError, 'query');
      if (!known.has(req.params.processor)) throw new PayFluxError('PF_ERR_NOT_FOUND', 'no such processor');
      return o.state.history(req.params.processor, req.query.range ?? '1h');
    },
  );
}
