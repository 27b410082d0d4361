/**
 * The `onRequest` guard of authenticated routes: API key, then the per-key token bucket.
 * It runs before the body is read, so an unauthenticated client cannot make us parse 8 MiB.
 */
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { PayFluxError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { ApiKeys } from './api-keys.js';
import type { TokenBuckets } from './token-bucket.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The 8-char id of the caller's key, once the guard let it through. */
    keyId: string | undefined;
  }
}

export interface GuardDeps {
  readonly apiKeys: ApiKeys;
  readonly buckets: TokenBuckets;
  readonly metrics: Pick<Metrics, 'authDenied' | 'ingestRateLimited'>;
  readonly now?: () => number;
}

export function createGuard(d: GuardDeps): onRequestHookHandler {
  const now = d.now ?? Date.now;
  return function guard(req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
    const auth = d.apiKeys.check(req.headers.authorization);
    if (!auth.ok) {
      d.metrics.authDenied.inc({ reason: auth.reason });
      const message =
        auth.reason === 'missing'
          ? 'missing Authorization: Bearer <key> header'
          : auth.reason === 'malformed'
            ? 'Authorization must be "Bearer <key>"'
            : 'invalid API key';
      void reply.header('www-authenticate', 'Bearer');
      done(new PayFluxError('PF_ERR_UNAUTHORIZED', message));
      return;
    }
    req.keyId = auth.keyId;
    if (d.buckets.enabled) {
      const t = d.buckets.take(auth.keyId, now());
      if (!t.ok) {
        d.metrics.ingestRateLimited.inc();
        void reply.headers({
          'ratelimit-limit': String(d.buckets.limit),
          'ratelimit-remaining': '0',
          'ratelimit-reset': String(t.resetSec),
        });
        done(
          new PayFluxError('PF_ERR_RATE_LIMITED', 'rate limit exceeded for this API key', {
            retryAfterSec: t.retryAfterSec,
          }),
        );
        return;
      }
    }
    done();
  };
}
