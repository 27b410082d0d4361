/**
 * Everything ingest needs, built from the configuration: the append batcher in front of the
 * buffer, the API keys (with their reloader for SIGHUP) and rate limits behind one guard, the
 * ingest routes' options, and the bulk ingestor for the pilot's Stripe webhooks (the same
 * validated single-event path as the routes; 503 on a node that does not ingest).
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import { createAppendBatcher, type AppendBatcher } from '../buffer/append-batcher.js';
import type { EventBuffer } from '../buffer/buffer.js';
import { createEventValidator } from '../events/validate-event.js';
import { createApiKeys } from './api-keys.js';
import { createGuard } from './guard.js';
import { createBulkIngestor, createEventIngestor, type IngestRoutesOptions } from './ingest-routes.js';
import { createKeyReloader, type KeySet } from './key-files.js';
import { createTokenBuckets } from './token-bucket.js';

export function createIngest(
  config: Config,
  d: { buffer: EventBuffer; metrics: Metrics; logger: Logger; keySet: KeySet; enabled: boolean },
) {
  const { metrics, logger } = d;
  const batcher: AppendBatcher = createAppendBatcher(d.buffer, {
    maxBatch: config.ingest.appendMaxBatch,
    maxPending: config.ingest.appendMaxPending,
    timeoutMs: config.ingest.appendTimeoutMs,
    maxInFlight: config.ingest.appendMaxInFlight,
    onFlush: (n) => metrics.appendBatchSize.observe(n),
  });
  metrics.readAppendPendingFrom(() => batcher.pending);
  const apiKeys = createApiKeys(d.keySet.keys, d.keySet.revoked);
  const reloadKeys = createKeyReloader(d.keySet, apiKeys, logger);
  if (apiKeys.size === 0)
    logger.warn('no API keys configured (PAYFLUX_API_KEYS): every authenticated request will be refused');
  const buckets = createTokenBuckets({
    rps: config.auth.rateLimitRps,
    burst: config.auth.rateLimitBurst,
    maxKeys: config.auth.rateLimitMaxKeys,
  });
  const guard = createGuard({ apiKeys, buckets, metrics });
  const validate = createEventValidator({
    processors: config.ingest.processors,
    maxClockSkewSec: config.ingest.maxClockSkewSec,
  });
  const routes: IngestRoutesOptions = {
    enabled: d.enabled,
    guard,
    validate,
    batcher,
    metrics,
    maxBodyBytes: config.ingest.maxBodyBytes,
    maxBatch: config.ingest.maxBatch,
    maxBatchBodyBytes: config.ingest.maxBatchBodyBytes,
  };
  const bulk = createBulkIngestor(createEventIngestor({ validate, batcher, metrics }), d.enabled);
  return { batcher, guard, routes, bulk, reloadKeys };
}
