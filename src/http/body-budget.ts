/**
 * A global budget of request-body bytes in flight, so that many large bodies at once cannot
 * take the process's memory: 120 concurrent 8 MiB batches held ~1.7 GB while they were read
 * and parsed.
 *
 * A request reserves its `Content-Length` before a byte of its body is read; a chunked body
 * reserves each chunk as it arrives. What does not fit is answered 503 `PF_ERR_BODY_BUDGET`
 * with `Retry-After` (the connection closes, the rest of the body unread). A reservation is
 * held until the response is sent or the connection is gone: a parsed body weighs more than
 * its bytes, and it lives until then. A body over its route's limit reserves nothing (it is
 * answered 413 unread).
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyReply, FastifyRequest, preParsingHookHandler } from 'fastify';
import { PayFluxError } from '../errors.js';
import type { Metrics } from '../metrics.js';

const RETRY_AFTER_SEC = 1;

export interface BodyBudget {
  /** Reserve `n` bytes; false (nothing reserved) when they do not fit. */
  tryReserve(n: number): boolean;
  release(n: number): void;
  readonly inFlight: number;
}

export function createBodyBudget(maxBytes: number): BodyBudget {
  let inFlight = 0;
  return {
    tryReserve(n) {
      if (inFlight + n > maxBytes) return false;
      inFlight += n;
      return true;
    },
    release(n) {
      inFlight -= n;
    },
    get inFlight() {
      return inFlight;
    },
  };
}

function overBudget(metrics: Pick<Metrics, 'httpBodyBudgetRefused'>): PayFluxError {
  metrics.httpBodyBudgetRefused.inc();
  return new PayFluxError(
    'PF_ERR_BODY_BUDGET',
    'the server is reading as many request bodies as it may at once; retry later',
    { retryAfterSec: RETRY_AFTER_SEC },
  );
}

/** The `preParsing` hook that holds every body to `budget`. */
export function bodyBudgetHook(
  budget: BodyBudget,
  metrics: Pick<Metrics, 'httpBodyBudgetRefused'>,
): preParsingHookHandler {
  return (req: FastifyRequest, reply: FastifyReply, payload, done) => {
    const header = req.headers['content-length'];
    if (header !== undefined) {
      const n = Number(header);
      // Over the route's limit: answered 413 unread, holding nothing. Zero: nothing to hold.
      if (!(n > 0) || n > req.routeOptions.bodyLimit) {
        done(null, payload);
        return;
      }
      if (!budget.tryReserve(n)) {
        done(overBudget(metrics));
        return;
      }
      reply.raw.once('close', () => budget.release(n));
      done(null, payload);
      return;
    }
    if (req.headers['transfer-encoding'] === undefined) {
      done(null, payload);
      return;
    }
    // Chunked: each chunk is reserved as it arrives; all of it is released when the response ends.
    let held = 0;
    reply.raw.once('close', () => budget.release(held));
    const counted = new Transform({
      transform(chunk: Buffer, _enc, next: TransformCallback) {
        if (!budget.tryReserve(chunk.length)) {
          next(overBudget(metrics));
          return;
        }
        held += chunk.length;
        next(null, chunk);
      },
    });
    payload.pipe(counted);
    payload.once('error', (err) => counted.destroy(err));
    done(null, counted);
  };
}
