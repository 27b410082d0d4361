/**
 * Ingest: `POST /v1/events/payment_exhaust` (one event) and `POST /v1/events/batch` (a JSON
 * array or NDJSON). Validation is the precompiled schema; storage is the micro-batched,
 * atomic dedup-and-append. A request is answered only once its events are stored.
 */
import type { FastifyError, FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { type AppendItem, type AppendOutcome } from '../buffer/buffer.js';
import type { AppendBatcher } from '../buffer/append-batcher.js';
import { dedupKeyFor } from '../buffer/dedup-key.js';
import { isStoredForm } from '../events/stored-form.js';
import { type PaymentEvent } from '../events/payment-event.js';
import { BufferUnavailableError, OverloadedError, PayFluxError, type ErrorBody, type ErrorCode } from '../errors.js';
import {
  BadLine,
  BatchBody,
  EventBody,
  OversizedBatch,
  jsonBatchParser,
  jsonEventParser,
  ndjsonParser,
} from './ingest-bodies.js';
import { logged, sendError } from './error-handler.js';
import type { Metrics } from '../metrics.js';
import type { EventValidator } from '../events/validate-event.js';
import { documentedBody, ingestBatchSchema, ingestOneSchema } from './route-schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** `performance.now()` when an ingest route's `onRequest` ran: the start of its duration. */
    receivedAt: number;
  }
}

export interface IngestRoutesOptions {
  readonly enabled: boolean;
  readonly guard: onRequestHookHandler;
  readonly validate: EventValidator;
  readonly batcher: AppendBatcher;
  readonly metrics: Metrics;
  readonly maxBodyBytes: number;
  readonly maxBatch: number;
  readonly maxBatchBodyBytes: number;
  readonly now?: () => number;
}

interface BatchResult {
  accepted: number;
  duplicates: number;
  rejected: { index: number; error: ErrorBody['error'] }[];
}

const RETRY_AFTER_SEC = 1;

/** `payflux_ingest_rejected_total` reasons of requests refused before their handler ran. */
const UNREAD_REASONS: Partial<Record<ErrorCode, string>> = {
  PF_ERR_BAD_JSON: 'bad_json',
  PF_ERR_BODY_TOO_LARGE: 'body_too_large',
  PF_ERR_UNSUPPORTED_MEDIA_TYPE: 'unsupported_media_type',
  PF_ERR_INGEST_DISABLED: 'disabled',
};

export function unavailable(err: unknown): PayFluxError {
  if (err instanceof BufferUnavailableError) {
    const code = err instanceof OverloadedError ? 'PF_ERR_OVERLOADED' : 'PF_ERR_BUFFER_UNAVAILABLE';
    return new PayFluxError(code, `the event buffer cannot store events right now (${err.message}); retry later`, {
      retryAfterSec: RETRY_AFTER_SEC,
    });
  }
  return new PayFluxError('PF_ERR_BUFFER_UNAVAILABLE', 'the event buffer cannot store events right now; retry later', {
    retryAfterSec: RETRY_AFTER_SEC,
  });
}

/**
 * Validate, store and count one event: `POST /v1/events/payment_exhaust`, and Stripe webhooks'
 * payment events, which must take the same checks, dedup and metrics. Resolves once stored (or
 * found a duplicate); throws the PayFluxError to answer (validation 400, buffer 503). `text`,
 * when given, is what `body` was parsed from: stored as it is when it is the stored form.
 */
export function createEventIngestor(
  o: Pick<IngestRoutesOptions, 'validate' | 'batcher' | 'metrics' | 'now'>,
): (body: unknown, text?: string) => Promise<AppendOutcome> {
  const now = o.now ?? Date.now;
  const m = o.metrics;
  return async (body, text) => {
    const v = o.validate(body, now());
    if (!v.ok) {
      m.ingestRejected.inc({ reason: 'validation' });
      throw v.error;
    }
    let outcome: AppendOutcome | undefined;
    try {
      [outcome] = await o.batcher.submit([
        {
          dedupKey: dedupKeyFor(v.event.event_id),
          payload: storedPayload(text, body, v.event),
          partition: v.event.processor,
        },
      ]);
    } catch (err) {
      m.ingestRejected.inc({ reason: 'unavailable' });
      throw unavailable(err);
    }
    if (outcome === 'duplicate') {
      m.ingestDuplicate.inc();
      return outcome;
    }
    m.countAccepted(v.event.processor);
    return 'accepted';
  };
}

/**
 * Events mapped from Stripe webhooks take the same checks, dedup and metrics as
 * `POST /v1/events/payment_exhaust`, one after the other: a refused one is answered 400 naming
 * the rule (Stripe shows it on the endpoint and retries), and a node that does not ingest
 * answers 503.
 */
export function createBulkIngestor(
  ingestOne: (body: unknown) => Promise<AppendOutcome>,
  enabled: boolean,
): (events: readonly unknown[]) => Promise<AppendOutcome[]> {
  return async (events) => {
    if (!enabled)
      throw new PayFluxError('PF_ERR_INGEST_DISABLED', 'ingest is disabled on this node', { retryAfterSec: 30 });
    const outcomes: AppendOutcome[] = [];
    for (const e of events) outcomes.push(await ingestOne(e));
    return outcomes;
  };
}

export async function ingestRoutes(app: FastifyInstance, o: IngestRoutesOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const m = o.metrics;

  const disabled: onRequestHookHandler = (_req, _reply, done) =>
    done(
      new PayFluxError(
        'PF_ERR_INGEST_DISABLED',
        'ingest is disabled on this node (PAYFLUX_ROLE=consumer or PAYFLUX_INGEST_ENABLED=false)',
        { retryAfterSec: 30 },
      ),
    );
  const inner = o.enabled ? o.guard : disabled;
  // The duration starts here and is observed in the handler: a per-route onResponse hook would
  // cost a hook run on every request of the hot path, and Fastify keeps no clock of its own
  // without a logger (server.ts).
  app.decorateRequest('receivedAt', 0);
  const onRequest: onRequestHookHandler = function (this: FastifyInstance, req, reply, done) {
    req.receivedAt = performance.now();
    inner.call(this, req, reply, done);
  };
  const elapsedSec = (req: FastifyRequest): number => (performance.now() - req.receivedAt) / 1000;
  const single = m.ingestDuration.labels({ route: 'single' });
  const batch = m.ingestDuration.labels({ route: 'batch' });

  // Requests refused before a handler ran (the body could not be read, ingest is off) are
  // counted and timed here; the handlers count what they refuse themselves. Auth and rate
  // limits have their own counters.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const pf = logged(err, req);
    const reason = UNREAD_REASONS[pf.code];
    if (reason !== undefined) {
      m.ingestRejected.inc({ reason });
      (req.url.startsWith('/v1/events/batch') ? batch : single).observe(elapsedSec(req));
    }
    return sendError(reply, pf);
  });

  // Each route in its own scope, with a JSON parser that keeps the text (ingest-bodies.ts) and
  // falls back to Fastify's, under the server's own prototype-poisoning options.
  const fastifyJson = (scope: FastifyInstance) =>
    scope.getDefaultJsonParser(
      scope.initialConfig.onProtoPoisoning ?? 'error',
      scope.initialConfig.onConstructorPoisoning ?? 'error',
    );
  const ingestOne = createEventIngestor(o);
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, jsonEventParser(fastifyJson(scope)));
    const options = {
      bodyLimit: o.maxBodyBytes,
      onRequest,
      schema: ingestOneSchema,
      validatorCompiler: documentedBody,
    };
    scope.post('/v1/events/payment_exhaust', options, async (req, reply) => {
      const b = req.body;
      const outcome = b instanceof EventBody ? await ingestOne(b.value, b.text) : await ingestOne(b);
      if (outcome === 'duplicate') void reply.header('payflux-duplicate', 'true');
      single.observe(elapsedSec(req));
      return reply.code(202).send();
    });
  });

  // NDJSON for the batch route only: on the single-event route it is a wrong content type, 415,
  // not an array that fails validation.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, ndjsonParser(o.maxBatch));
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'string' },
      jsonBatchParser(fastifyJson(scope), o.maxBatch),
    );
    scope.post(
      '/v1/events/batch',
      { bodyLimit: o.maxBatchBodyBytes, onRequest, schema: ingestBatchSchema, validatorCompiler: documentedBody },
      batchHandler,
    );
  });

  async function batchHandler(req: FastifyRequest): Promise<BatchResult> {
    const parsed = req.body;
    const body = parsed instanceof BatchBody ? parsed.items : parsed;
    const texts = parsed instanceof BatchBody ? parsed.texts : undefined;
    const tooLarge = (count: number): PayFluxError => {
      m.ingestRejected.inc({ reason: 'batch_too_large' });
      return new PayFluxError(
        'PF_ERR_BATCH_TOO_LARGE',
        `a batch holds at most ${o.maxBatch} events (PAYFLUX_MAX_BATCH); got ${count}`,
      );
    };
    if (parsed instanceof OversizedBatch) throw tooLarge(parsed.count);
    if (!Array.isArray(body)) {
      m.ingestRejected.inc({ reason: 'validation' });
      throw new PayFluxError(
        'PF_ERR_VALIDATION',
        'the batch must be a JSON array of events (or NDJSON with application/x-ndjson)',
      );
    }
    if (body.length > o.maxBatch) throw tooLarge(body.length);
    const t = now();
    const result: BatchResult = { accepted: 0, duplicates: 0, rejected: [] };
    const items: AppendItem[] = [];
    const processors: string[] = [];
    for (let i = 0; i < body.length; i++) {
      const raw: unknown = body[i];
      if (raw instanceof BadLine) {
        result.rejected.push({ index: i, error: { code: 'PF_ERR_BAD_JSON', message: raw.message } });
        continue;
      }
      const v = o.validate(raw, t);
      if (!v.ok) {
        result.rejected.push({ index: i, error: v.error.toBody().error });
        continue;
      }
      items.push({
        dedupKey: dedupKeyFor(v.event.event_id),
        payload: storedPayload(texts?.[i], raw, v.event),
        partition: v.event.processor,
      });
      processors.push(v.event.processor);
    }
    if (result.rejected.length > 0) m.ingestRejected.inc({ reason: 'validation' }, result.rejected.length);
    if (items.length > 0) {
      let outcomes;
      try {
        outcomes = await o.batcher.submit(items);
      } catch (err) {
        m.ingestRejected.inc({ reason: 'unavailable' }, items.length);
        throw unavailable(err);
      }
      for (let i = 0; i < outcomes.length; i++) {
        if (outcomes[i] === 'accepted') {
          result.accepted++;
          m.countAccepted(processors[i] ?? 'unknown');
        } else result.duplicates++;
      }
      if (result.duplicates > 0) m.ingestDuplicate.inc(result.duplicates);
    }
    batch.observe(elapsedSec(req));
    return result;
  }
}

/**
 * What is stored for a valid event: the text it was sent as when that is byte for byte the
 * stored form (`isStoredForm`), else its JSON — the same bytes either way. A batch item's text
 * is a view into the whole body, kept only until its append's round trip ends: the Redis
 * buffer joins a call's payloads into one new string, and the memory buffer, which keeps
 * entries, copies each (copying every item here cost ~150 ns and an allocation an event).
 */
function storedPayload(text: string | undefined, body: unknown, event: PaymentEvent): string {
  if (text === undefined || !isStoredForm(text, body as Record<string, unknown>)) return JSON.stringify(event);
  return text;
}
